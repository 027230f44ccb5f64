import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chunkDocument } from "../src/connectors/chunking/chunk-document.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import type { DocumentChunk, SearchHit } from "../src/ledger/types.js";
import { gitConfig, runCli, Workspace } from "./helpers/workspace.js";

const PY = `"""Inventory of otters."""
import os
from typing import List

MAX = 10


# Counts the otters in a raft.
def count_otters(raft: List[str]) -> int:
    return len(raft)


@dataclass
class Raft:
    """A group of otters."""

    name: str

    def add(self, otter: str) -> None:
        self.members.append(otter)

    @property
    def size(self) -> int:
        return len(self.members)


if __name__ == "__main__":
    print(count_otters(["a"]))
`;

const TS = `import { readFile } from "node:fs/promises";
import path from "node:path";

/** How many otters fit in a raft. */
export const RAFT_SIZE = 12;

/**
 * Reads a census file.
 */
export async function readCensus(file: string): Promise<string[]> {
  const text = await readFile(path.resolve(file), "utf8");
  return text.split("\\n");
}

export class Raft {
  private readonly members: string[] = [];

  constructor(readonly river: string) {}

  add(otter: string): void {
    this.members.push(otter);
  }

  get size(): number {
    return this.members.length;
  }
}

export const countOtters = (raft: Raft): number => raft.size;

interface Census {
  river: string;
}
`;

const GO = `package otters

import "fmt"

// Raft is a group of otters.
type Raft struct {
	Members []string
}

// Add puts an otter in the raft.
func (r *Raft) Add(otter string) {
	r.Members = append(r.Members, otter)
}

func Count(r Raft) int {
	return len(r.Members)
}

var zoo = fmt.Sprintf("%d", 1)
`;

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

function expectCover(chunks: DocumentChunk[], text: string): void {
  expect(chunks.map((c) => c.content).join("")).toBe(text);
  const lines = text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  let next = 1;
  for (const c of chunks) {
    expect(c.startLine).toBe(next);
    expect(c.endLine).toBeGreaterThanOrEqual(c.startLine);
    expect(c.content.split("\n").length - (c.content.endsWith("\n") ? 1 : 0)).toBe(
      c.endLine - c.startLine + 1,
    );
    next = c.endLine + 1;
  }
  expect(next - 1).toBe(lines);
}

/** Small files of the other languages a grammar reads. */
const OTHERS: Record<string, string> = {
  "a.rs":
    'use std::fmt;\n\n/// A raft.\npub struct Raft { n: u32 }\n\nimpl fmt::Display for Raft {\n    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {\n        write!(f, "{}", self.n)\n    }\n}\n\nimpl Raft {\n    pub fn new() -> Self { Raft { n: 0 } }\n    pub fn add(&mut self) { self.n += 1; }\n}\n\nfn main() {}\n',
  "A.java":
    "package a;\n\nimport java.util.List;\n\npublic class Raft {\n    private int n;\n\n    public Raft() { n = 0; }\n\n    /** Adds. */\n    public void add(int k) {\n        n += k;\n    }\n}\n",
  "a.cs":
    "using System;\n\nnamespace Otters {\n    public class Raft {\n        public int N { get; set; }\n        public void Add(int k) {\n            N += k;\n        }\n    }\n}\n",
  "a.cpp":
    "#include <vector>\n\nnamespace otters {\nclass Raft {\n public:\n  void add(int k);\n};\n}\n\nvoid otters::Raft::add(int k) {\n  n_ += k;\n}\n\ntemplate <typename T>\nT twice(T x) {\n  return x + x;\n}\n",
  "a.c":
    "#include <stdio.h>\n\nstatic int *count(int *raft) {\n  return raft;\n}\n\nint main(void) {\n  return 0;\n}\n",
  "a.rb":
    "require 'set'\n\nmodule Otters\n  class Raft\n    def add(k)\n      @n += k\n    end\n\n    def self.build\n      new\n    end\n  end\nend\n",
  "a.php":
    "<?php\nnamespace Otters;\n\nfunction count_raft($r) {\n    return count($r);\n}\n\nclass Raft {\n    public function add($k) {\n        $this->n += $k;\n    }\n}\n",
  "a.sh": "#!/bin/sh\nset -e\n\nbuild() {\n  make all\n}\n\nbuild\n",
  "a.js":
    "const a = require('a');\n\nmodule.exports.f = function f() {\n  return 1;\n};\n\nexport default class Raft {\n  add() { return 2; }\n}\n",
};

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

/** A Go file of functions big enough not to be merged with their neighbours (each over 300 characters). */
const RIVER = [
  "package otters",
  "",
  'import "strings"',
  "",
  ...["Depth", "Width", "Current"].flatMap((name, n) => [
    `// ${name} measures the river at a gauge.`,
    `func ${name}(gauges []string) int {`,
    "\ttotal := 0",
    "\tfor _, g := range gauges {",
    `\t\tif strings.HasPrefix(g, "${name.toLowerCase()}") {`,
    `\t\t\ttotal += len(g) * ${n + 2}`,
    "\t\t}",
    "\t}",
    ...(name === "Width" ? ["\t// beavers widen the banks", "\ttotal += beaverDams(gauges)"] : []),
    "\tif total > 1000 {",
    "\t\treturn 1000",
    "\t}",
    "\treturn total",
    "}",
    "",
  ]),
].join("\n");

describe("code-aware chunks in the document store", () => {
  it("stores the chunks it is given with their lines and symbols, and cuts a document without them by size", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-chunks-"));
    const ledger = openSqliteLedger(path.join(dir, "state.db"));
    try {
      const docs = ledger.documents!;
      const chunks = await chunkDocument(GO, { path: "otters/raft.go" }, { sizes: WHOLE });
      const base = { kind: "upsert", job: "j", collection: "c", version: "1" } as const;
      await docs.write([
        {
          ...base,
          key: "otters/raft.go",
          content: GO,
          metadata: { path: "otters/raft.go" },
          chunks: chunks!,
        },
        { ...base, key: "record-7", content: "a record that mentions a raft of otters" },
      ]);
      expect((await docs.get("j", "c", "otters/raft.go"))?.content).toBe(GO);
      const [file] = await docs.search("append members", { limit: 5 });
      expect(file).toMatchObject({ key: "otters/raft.go", path: "otters/raft.go", line: 10, endLine: 14 });
      expect(file).toMatchObject({ symbol: "Raft.Add", language: "go" });
      const [record] = await docs.search("record", { limit: 5 });
      expect(record!.key).toBe("record-7");
      expect(Object.keys(record!).sort()).toEqual([
        "collection",
        "job",
        "key",
        "score",
        "snippet",
        "version",
      ]);
    } finally {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("code-aware chunks through the CLI", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("indexes a git repository's files in chunks and `search` names the path, line and symbol", async () => {
    ws = new Workspace();
    const readme =
      "# Otters\n\n" +
      Array.from({ length: 200 }, (_, i) => `Paragraph ${i} about rivers.`).join("\n") +
      "\nSea otters hold hands.\n";
    ws.commit({
      "census.ts": TS,
      "otters.py": PY,
      "otters/raft.go": GO,
      "otters/river.go": RIVER,
      "README.md": readme,
    });
    ws.write("syncwarden.yaml", gitConfig());
    const run = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(run.code, run.stderr).toBe(0);
    // the store holds each file whole again, in chunks that know their lines
    const docs = ws.documents("code");
    expect(docs.get("census.ts")).toBe(TS);
    expect(docs.get("otters.py")).toBe(PY);
    const db = ws.db();
    const rows = db
      .prepare<
        [],
        { key: string; start_line: number; end_line: number; symbol: string | null; language: string }
      >(
        `SELECT d.key, c.start_line, c.end_line, c.symbol, c.language FROM chunks c JOIN documents d ON d.id = c.document_id
         ORDER BY d.key, c.ord`,
      )
      .all();
    db.close();
    expect(rows.filter((r) => r.key === "otters/raft.go").map((r) => r.symbol)).toEqual([
      null,
      "Raft, Raft.Add, Count",
    ]);
    expect(rows.filter((r) => r.key === "otters/river.go").map((r) => [r.start_line, r.symbol])).toEqual([
      [1, null],
      [5, "Depth"],
      [19, "Width"],
      [35, "Current"],
    ]);
    expect(new Set(rows.map((r) => r.language))).toEqual(new Set(["typescript", "python", "go", "markdown"]));

    const search = async (...words: string[]): Promise<SearchHit[]> => {
      const r = await runCli(["search", ...words, "--json"], { cwd: ws.dir });
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as SearchHit[];
    };
    const [census] = await search("split", "census");
    expect(census).toMatchObject({
      key: "census.ts",
      path: "census.ts",
      language: "typescript",
      symbol: "readCensus",
      line: 7,
      endLine: 14,
    });

    const [width] = await search("beavers", "widen");
    expect(width).toMatchObject({
      key: "otters/river.go",
      path: "otters/river.go",
      symbol: "Width",
      line: 19,
    });
    expect(width!.endLine).toBe(34);
    const [prose] = await search("hold", "hands");
    expect(prose).toMatchObject({ key: "README.md", language: "markdown" });
    // the README's line 203, in its second window of lines
    expect(prose!.line).toBeGreaterThan(1);
    expect(prose!.line).toBeLessThanOrEqual(203);
    expect(prose!.endLine).toBe(203);
    expect(prose!.symbol).toBeUndefined();

    const plain = await runCli(["search", "beavers"], { cwd: ws.dir });
    expect(plain.stdout).toContain("otters/river.go:19 Width  (code, score");
  });
});
