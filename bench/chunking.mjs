// Section 8 of the bench: code-aware chunking (tree-sitter) vs cutting the same files in line windows.
//   code-aware: what the sqlite-docs sink does to a file with a grammar (chunkDocument: parse, definitions,
//               merges, caps) — grammars loaded once, first (the load is timed on its own)
//   floors:     line windows (the fallback for files no grammar reads) and the ledger's plain size cuts;
//               tree-sitter's parse alone, to tell the parser's share from the chunker's
// over a generated set of Python, TypeScript, Go and JavaScript files (2,000 at BENCH_SCALE=1), plus peak RSS
// per phase; and `syncwarden run` indexing the files from a git repository, as source and renamed .txt. Run alone: `node bench/chunking.mjs` (after `npm run build`); prints one JSON line on stdout.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { writeGitConfig } from "./git.mjs";
import {
  CLI,
  DIST,
  benchScale,
  emitResult,
  lastJsonLine,
  log,
  median,
  now,
  peakRssKiB,
  random,
  removeDir,
  resetPeakRss,
  runProcess,
  tempDir,
} from "./lib.mjs";

const ROUNDS = 3;
const WORDS = Array.from({ length: 800 }, (_, i) => `otter${i.toString(36)}`);


/** Source files of four languages: imports, constants, functions (3–40 lines), classes with methods. */
export function generate(count, seed) {
  const rnd = random(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const word = () => WORDS[Math.floor(rnd() ** 2 * WORDS.length)];
  const body = (indent, stmt) => Array.from({ length: int(2, 38) }, () => indent + stmt());
  const langs = {
    py: () => {
      const out = ["import os", `from ${word()} import ${word()}`, "", `LIMIT_${word()} = ${int(1, 99)}`, ""];
      for (let d = int(3, 12); d > 0; d--) {
        if (rnd() < 0.3) {
          out.push("", `class C${word()}:`, `    """Holds ${word()} and ${word()}."""`, "");
          for (let m = int(2, 8); m > 0; m--)
            out.push(
              `    def ${word()}(self, ${word()}):`,
              ...body("        ", () => `${word()} = ${word()}(${word()})`),
              "",
            );
        } else {
          out.push("", `# ${word()} of the ${word()}`, `def ${word()}(${word()}, ${word()}=None):`);
          out.push(
            ...body("    ", () => `${word()} = ${word()}.${word()}(${word()})`),
            `    return ${word()}`,
            "",
          );
        }
      }
      return out.join("\n");
    },
    ts: () => {
      const out = [
        `import { ${word()} } from "./${word()}.js";`,
        `export const ${word()} = ${int(1, 99)};`,
        "",
      ];
      for (let d = int(3, 12); d > 0; d--) {
        if (rnd() < 0.3) {
          out.push(`export class C${word()} {`, `  private ${word()} = 0;`, "");
          for (let m = int(2, 8); m > 0; m--)
            out.push(
              `  ${word()}(${word()}: string): number {`,
              ...body("    ", () => `this.${word()} += ${word()}(${word()}).length;`),
              "    return 0;",
              "  }",
              "",
            );
          out.push("}", "");
        } else {
          out.push(
            `/** ${word()} the ${word()}. */`,
            `export function ${word()}(${word()}: number): number {`,
          );
          out.push(
            ...body("  ", () => `const ${word()}_${int(0, 9)} = ${word()}(${word()});`),
            "  return 0;",
            "}",
            "",
          );
        }
      }
      return out.join("\n");
    },
    go: () => {
      const out = [
        "package otters",
        "",
        'import "strings"',
        "",
        `type T${word()} struct {`,
        `\tName string`,
        "}",
        "",
      ];
      for (let d = int(3, 14); d > 0; d--) {
        const recv = rnd() < 0.4 ? `(t *T${word()}) ` : "";
        out.push(`// F${word()} counts ${word()}.`, `func ${recv}F${word()}(s string) int {`);
        out.push(...body("\t", () => `s = strings.TrimPrefix(s, "${word()}")`), "\treturn len(s)", "}", "");
      }
      return out.join("\n");
    },
    js: () => {
      const out = [`const ${word()} = require("${word()}");`, ""];
      for (let d = int(3, 12); d > 0; d--) {
        out.push(
          `const ${word()} = (${word()}) => {`,
          ...body("  ", () => `${word()}.push(${word()});`),
          "  return 1;",
          "};",
          "",
        );
      }
      out.push(`module.exports = { ${word()} };`, "");
      return out.join("\n");
    },
  };
  const exts = Object.keys(langs);
  return Array.from({ length: count }, (_, i) => {
    const ext = exts[i % exts.length];
    return { path: `src/m${i}/file${i}.${ext}`, text: langs[ext]() };
  });
}

/** Every file through `cut`, ROUNDS times: the median round's seconds, the chunks it made, its peak RSS. */
async function measure(files, cut) {
  const seconds = [];
  let chunks = 0;
  let named = 0;
  resetPeakRss();
  for (let r = 0; r < ROUNDS; r++) {
    chunks = 0;
    named = 0;
    const t = now();
    for (const f of files) {
      const out = await cut(f);
      chunks += out.length;
      for (const c of out) if (c.symbol !== undefined) named++;
    }
    seconds.push((now() - t) / 1000);
  }
  const s = median(seconds);
  return {
    seconds: s,
    chunks,
    named,
    filesPerSecond: files.length / s,
    chunksPerSecond: chunks / s,
    peakRssKiB: peakRssKiB(),
  };
}

/**
 * What a user sees: `syncwarden run` (the built CLI, a first run) indexing the files from a git repository
 * into sqlite-docs; with `asText` the same contents named `.txt`, which are cut in line windows.
 */
async function firstRun(files, asText) {
  const dir = tempDir("chunking");
  try {
    const repo = path.join(dir, "repo");
    for (const f of files) {
      const file = path.join(repo, asText ? `${f.path}.txt` : f.path);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, f.text);
    }
    const git = (...args) => runProcess("git", ["-C", repo, ...args]);
    await git("init", "-q", "-b", "main");
    await git("add", "-A");
    await git("-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "commit", "-qm", "files");
    const config = writeGitConfig(dir, repo);
    const r = await runProcess(process.execPath, [CLI, "run", "--json", "-c", config], { cwd: dir });
    if (r.code !== 0) throw new Error(`syncwarden run exited ${r.code}: ${r.stderr.slice(-500)}`);
    const result = JSON.parse(r.stdout);
    if (result.phases[0].completed !== files.length)
      throw new Error(`indexed ${result.phases[0].completed} of ${files.length}`);
    return { seconds: r.wallMs / 1000, filesPerSecond: files.length / (r.wallMs / 1000) };
  } finally {
    removeDir(dir);
  }
}

export async function main() {
  const count = Math.max(100, Math.round(2000 * benchScale()));
  const mod = (p) => import(pathToFileURL(path.join(DIST, p)).href);
  const { chunkDocument } = await mod("connectors/chunking/chunk-document.js");
  const { chunkByLines } = await mod("connectors/chunking/line-window-chunker.js");
  const { chunkText } = await mod("ledger/chunk-text.js");
  const { languageOfPath } = await mod("config/languages.js");
  const { parserFor } = await mod("connectors/chunking/parsers.js");
  const { grammarFor } = await mod("connectors/chunking/grammars.js");
  const files = generate(count, 7);
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
  const lines = files.reduce((n, f) => n + f.text.split("\n").length, 0);
  log(`[8] ${count} generated files, ${lines} lines, ${(bytes / 1e6).toFixed(1)} MB`);

  const sizeCuts = await measure(files, (f) => chunkText(f.text).map((content) => ({ content })));
  log(`[8] size cuts (the ledger's chunkText): ${sizeCuts.filesPerSecond.toFixed(0)} files/s`);
  const windows = await measure(files, (f) => chunkByLines(f.text, languageOfPath(f.path)?.name));
  log(`[8] line windows: ${windows.filesPerSecond.toFixed(0)} files/s`);

  // the grammars' first load, once per process, timed apart from the steady state
  resetPeakRss();
  const t = now();
  for (const ext of ["py", "ts", "go", "js"]) await chunkDocument("x", { path: `warm.${ext}` });
  const loadMs = now() - t;
  log(`[8] tree-sitter runtime + 4 grammars loaded in ${loadMs.toFixed(0)} ms`);
  // tree-sitter's parse alone (no chunking): how much of the code-aware time is the parser's
  const parse = await measure(files, async (f) => {
    const parser = await parserFor(grammarFor(languageOfPath(f.path).name, f.path));
    parser.parse(f.text).delete();
    return [];
  });
  log(`[8] parse only: ${parse.filesPerSecond.toFixed(0)} files/s`);
  const code = await measure(files, (f) => chunkDocument(f.text, { path: f.path }));
  log(
    `[8] code-aware: ${code.filesPerSecond.toFixed(0)} files/s, ${code.chunksPerSecond.toFixed(0)} chunks/s`,
  );

  // the invariant the speed must not buy off: every file's chunks are the file, in order
  let whole = 0;
  for (const f of files) {
    const out = await chunkDocument(f.text, { path: f.path });
    if (out.map((c) => c.content).join("") === f.text) whole++;
  }
  const indexing = { code: await firstRun(files, false), text: await firstRun(files, true) };
  log(
    `[8] syncwarden run: ${indexing.code.seconds.toFixed(2)} s as source, ${indexing.text.seconds.toFixed(2)} s as .txt`,
  );
  return {
    indexing,
    files: count,
    lines,
    bytes,
    rounds: ROUNDS,
    loadMs,
    code,
    parse,
    windows,
    sizeCuts,
    filesWhole: whole,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) emitResult(await main());
