import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chunkDocument } from "../src/connectors/chunking/chunk-document.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import type { SearchHit } from "../src/ledger/types.js";
import { GO, PY, RIVER, TS } from "./helpers/code-samples.js";
import { gitConfig, runCli, Workspace } from "./helpers/workspace.js";

describe("code-aware chunks in the document store", () => {
  it("stores the chunks it is given with their lines and symbols, and cuts a document without them by size", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-chunks-"));
    const ledger = openSqliteLedger(path.join(dir, "state.db"));
    try {
      const docs = ledger.documents!;
      const chunks = await chunkDocument(
        GO,
        { path: "otters/raft.go" },
        { sizes: { maxChars: 4000, mergeChars: 0 } },
      );
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
