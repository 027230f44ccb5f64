import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { chunkDocument } from "../src/connectors/chunking/chunk-document.js";
import { parserFor } from "../src/connectors/chunking/parsers.js";
import { GO, OTHERS, PY, TS } from "./helpers/code-samples.js";
import { expectCover } from "./helpers/expect-cover.js";

/** Structure only: no merging of small neighbours, and a cap that big files (not these) would hit. */
const WHOLE = { maxChars: 4000, mergeChars: 0 };
/** A cap small enough that the classes are opened into their methods. */
const SMALL = { maxChars: 120, mergeChars: 0 };

/** `first-last symbol` of each chunk, after checking that the chunks are the file, every line exactly once. */
async function outline(text: string, file: string, sizes = WHOLE): Promise<string[]> {
  const chunks = await chunkDocument(text, { path: file }, { sizes });
  expect(chunks).toBeDefined();
  expectCover(chunks!, text);
  return chunks!.map((c) => `${c.startLine}-${c.endLine}${c.symbol ? ` ${c.symbol}` : ""}`);
}

describe("code-aware chunks", () => {
  it("cuts Python along its definitions, leading comments and decorators kept with them", async () => {
    expect(await outline(PY, "otters.py")).toEqual(["1-7", "8-12 count_otters", "13-26 Raft", "27-28"]);
    expect(await outline(PY, "otters.py", SMALL)).toEqual([
      "1-7",
      "8-12 count_otters",
      "13-18 Raft",
      "19-21 Raft.add",
      "22-26 Raft.size",
      "27-28",
    ]);
    const chunks = await chunkDocument(PY, { path: "lib/otters.py" });
    expect(new Set(chunks!.map((c) => c.language))).toEqual(new Set(["python"]));
  });

  it("cuts TypeScript into exported functions, classes (methods when big), arrow functions and types", async () => {
    expect(await outline(TS, "src/census.ts")).toEqual([
      "1-6",
      "7-14 readCensus",
      "15-28 Raft",
      "29-30 countOtters",
      "31-33 Census",
    ]);
    expect(await outline(TS, "src/census.ts", SMALL)).toEqual([
      "1-4",
      "5-6",
      "7-10 readCensus",
      "11-14 readCensus",
      "15-17 Raft",
      "18-19 Raft.constructor",
      "20-23 Raft.add",
      "24-26 Raft.size",
      "27-28 Raft",
      "29-30 countOtters",
      "31-33 Census",
    ]);
  });

  it("cuts Go into types and functions, methods named by their receiver", async () => {
    expect(await outline(GO, "otters/raft.go")).toEqual([
      "1-4",
      "5-9 Raft",
      "10-14 Raft.Add",
      "15-18 Count",
      "19-19",
    ]);
  });

  it("names the definitions of Rust, Java, C#, C, C++, Ruby, PHP, shell and JavaScript files", async () => {
    const symbols: Record<string, string[]> = {};
    for (const [file, text] of Object.entries(OTHERS)) {
      const chunks = await chunkDocument(text, { path: file }, { sizes: { maxChars: 60, mergeChars: 0 } });
      expectCover(chunks!, text);
      symbols[file] = [...new Set(chunks!.flatMap((c) => c.symbol ?? []))];
    }
    expect(symbols).toEqual({
      "a.rs": ["Raft", "impl fmt::Display for Raft", "Raft.fmt", "impl Raft", "Raft.new", "Raft.add", "main"],
      "A.java": ["Raft", "Raft.Raft", "Raft.add"],
      "a.cs": ["Otters", "Otters.Raft", "Otters.Raft.N", "Otters.Raft.Add"],
      "a.cpp": ["otters", "otters.Raft", "otters::Raft::add", "twice"],
      "a.c": ["count", "main"],
      "a.rb": ["Otters", "Otters.Raft", "Otters.Raft.add", "Otters.Raft.build"],
      "a.php": ["Otters", "count_raft", "Raft", "Raft.add"],
      "a.sh": ["build"],
      "a.js": ["Raft"],
    });
  });

  it("reads .tsx with JSX", async () => {
    const tsx = 'export function App() {\n  return <div className="raft" />;\n}\n';
    expect(await outline(tsx, "ui/App.tsx")).toEqual(["1-3 App"]);
  });

  it("merges tiny neighbours up to a size", async () => {
    const go = "package m\n\nfunc A() {}\n\nfunc B() {}\n\nfunc C() {}\n";
    expect(await outline(go, "m.go", { maxChars: 4000, mergeChars: 300 })).toEqual(["1-2", "3-7 A, B, C"]);
    expect(await outline(go, "m.go", { maxChars: 4000, mergeChars: 20 })).toEqual([
      "1-2",
      "3-4 A",
      "5-6 B",
      "7-7 C",
    ]);
  });

  it("falls back to line windows for a file with a syntax error", async () => {
    const broken = "def ok():\n    return 1\n\ndef broken(:\n    pass\n" + "x = 1\n".repeat(40);
    const chunks = await chunkDocument(
      broken,
      { path: "broken.py" },
      { sizes: { maxChars: 100, mergeChars: 0 } },
    );
    expectCover(chunks!, broken);
    expect(chunks!.length).toBeGreaterThan(2);
    expect(chunks!.every((c) => c.symbol === undefined && c.language === "python")).toBe(true);
  });

  it("falls back to line windows for languages no grammar reads, and leaves documents that are no file alone", async () => {
    const text = Array.from({ length: 30 }, (_, i) => `line ${i + 1} of the notes`).join("\n");
    const md = await chunkDocument(
      text,
      { path: "docs/notes.md" },
      { sizes: { maxChars: 200, mergeChars: 0 } },
    );
    expectCover(md!, text);
    expect(md!.length).toBeGreaterThan(1);
    expect(md!.every((c) => c.language === "markdown" && c.symbol === undefined)).toBe(true);
    const odd = await chunkDocument(text, { path: "data.xyz" });
    expectCover(odd!, text);
    expect(odd!.map((c) => [c.startLine, c.endLine, c.language])).toEqual([[1, 30, undefined]]);
    expect(await chunkDocument(text, {})).toBeUndefined();
    expect(await chunkDocument(text, undefined)).toBeUndefined();
  });

  it("loads a grammar once per process, and a grammar that does not load stays failed", async () => {
    const python = { wasm: "tree-sitter-python.wasm", definitions: new Set<string>() };
    expect(await parserFor(python)).toBe(await parserFor(python));
    const missing = { wasm: "tree-sitter-nope.wasm", definitions: new Set<string>() };
    await expect(parserFor(missing)).rejects.toThrow();
    expect(parserFor(missing)).toBe(parserFor(missing));
  });

  it("keeps a line longer than the cap whole, and an empty file has no chunks", async () => {
    const long = `const a = "${"x".repeat(300)}";\nconst b = 1;\n`;
    expect(await outline(long, "long.js", { maxChars: 100, mergeChars: 0 })).toEqual(["1-1", "2-2"]);
    expect(await chunkDocument("", { path: "empty.py" })).toEqual([]);
  });

  it("covers every line of this project's own sources exactly once", async () => {
    const root = path.resolve(import.meta.dirname, "../src");
    const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(100);
    let symbols = 0;
    for (const file of files) {
      const text = readFileSync(path.join(root, file), "utf8");
      for (const sizes of [undefined, { maxChars: 600, mergeChars: 100 }]) {
        const chunks = await chunkDocument(text, { path: file }, sizes ? { sizes } : {});
        expectCover(chunks!, text);
        symbols += chunks!.filter((c) => c.symbol !== undefined).length;
      }
    }
    expect(symbols).toBeGreaterThan(files.length);
  });
});
