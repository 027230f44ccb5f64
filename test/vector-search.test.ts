import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Ledger } from "../src/ledger/ledger.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import type { VectorExtensionLoader } from "../src/ledger/sqlite/vector-index.js";
import type { DocumentWrite } from "../src/ledger/types.js";
import { fuseRanks } from "../src/service/rank-fusion.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { runCli, Workspace } from "./helpers/workspace.js";

/** A seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const upsert = (
  key: string,
  content: string,
  values?: number[],
  version = "1",
  job = "j",
): DocumentWrite => ({
  kind: "upsert",
  job,
  collection: "c",
  key,
  version,
  content,
  ...(values ? { vector: { model: "m", values } } : {}),
});

const noExtension: VectorExtensionLoader = () => {
  throw new Error("simulated: extension not found");
};

describe("vector search (sqlite-vec KNN in the ledger's file)", () => {
  let dir: string;
  let file: string;
  let ledger: Ledger;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sw-vec-"));
    file = path.join(dir, "state.db");
    ledger = openSqliteLedger(file);
  });
  afterEach(async () => {
    await ledger.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const docs = () => ledger.documents!;

  it("KNN returns the same top results as an exact linear scan over 300 random vectors", async () => {
    const rnd = random(7);
    const vec = (): number[] => Array.from({ length: 48 }, () => rnd() * 2 - 1);
    await docs().write(Array.from({ length: 300 }, (_, i) => upsert(`d${i}`, `doc ${i}`, vec())));
    const db = new Database(file, { readonly: true });
    const linear = (q: number[]) => {
      const rows = db.prepare<[], { key: string; vector: Buffer }>(
        "SELECT d.key, v.vector FROM vectors v JOIN documents d ON d.id = v.document_id",
      );
      const scored = rows.all().map((r) => {
        const v = new Float32Array(r.vector.buffer, r.vector.byteOffset, 48);
        let dot = 0;
        let vn = 0;
        let qn = 0;
        for (let i = 0; i < 48; i++) {
          dot += v[i]! * q[i]!;
          vn += v[i]! ** 2;
          qn += q[i]! ** 2;
        }
        return { key: r.key, score: dot / Math.sqrt(vn * qn) };
      });
      return scored.sort((a, b) => b.score - a.score).slice(0, 10);
    };
    for (let n = 0; n < 5; n++) {
      const q = vec();
      const knn = await docs().semanticSearch(q, { limit: 10 });
      const exact = linear(q);
      expect(knn.map((h) => h.key)).toEqual(exact.map((h) => h.key));
      knn.forEach((h, i) => expect(h.score).toBeCloseTo(exact[i]!.score, 4));
    }
    // the KNN index is really there: one vec0 table registered for (m, 48)
    expect(db.prepare("SELECT model, dim FROM vector_indexes").all()).toEqual([{ model: "m", dim: 48 }]);
    db.close();
  });

  it("a document re-indexed or removed leaves no stale vector behind", async () => {
    await docs().write([
      upsert("a", "alpha", [1, 0, 0]),
      upsert("b", "beta", [0, 1, 0]),
      upsert("c", "gamma", [0, 0, 1], "1", "other"),
    ]);
    expect((await docs().semanticSearch([1, 0, 0], { limit: 1 }))[0]!.key).toBe("a");
    // re-indexed without a vector (embeddings down): its old vector must not answer any more
    await docs().write([upsert("a", "alpha v2", undefined, "2")]);
    expect((await docs().semanticSearch([1, 0, 0], { limit: 10 })).map((h) => h.key)).not.toContain("a");
    // re-indexed with a new vector: found by the new one only
    await docs().write([upsert("a", "alpha v3", [0, 0.1, 1], "3")]);
    expect((await docs().semanticSearch([0, 0, 1], { job: "j", limit: 1 }))[0]!.key).toBe("a");
    await docs().write([{ kind: "delete", job: "j", collection: "c", key: "b" }]);
    const left = await docs().semanticSearch([0, 1, 0], { limit: 10 });
    expect(left.map((h) => h.key).sort()).toEqual(["a", "c"]);
    expect(await docs().semanticSearch([0, 1, 0], { job: "other", limit: 10 })).toHaveLength(1);
  });

  it("without the extension: a linear scan with one clear warning, and the index catches up once it loads", async () => {
    await ledger.close();
    ledger = openSqliteLedger(file, { loadVectorExtension: noExtension });
    await docs().write([upsert("a", "alpha", [1, 0, 0]), upsert("b", "beta", [0, 1, 0])]);
    expect(docs().vectorSearchWarning?.()).toMatch(
      /sqlite-vec extension did not load.*simulated.*linear scan|scans every vector/,
    );
    expect((await docs().semanticSearch([0.9, 0.1, 0], { limit: 2 })).map((h) => h.key)).toEqual(["a", "b"]);
    await ledger.close();
    ledger = openSqliteLedger(file);
    expect(docs().vectorSearchWarning?.()).toBeUndefined();
    expect((await docs().semanticSearch([0.1, 0.9, 0], { limit: 2 })).map((h) => h.key)).toEqual(["b", "a"]);
    // written while the extension was missing: the index was rebuilt from the vectors table
    await ledger.close();
    ledger = openSqliteLedger(file, { loadVectorExtension: noExtension });
    await docs().write([{ kind: "delete", job: "j", collection: "c", key: "b" }]);
    await ledger.close();
    ledger = openSqliteLedger(file);
    expect((await docs().semanticSearch([0, 1, 0], { limit: 5 })).map((h) => h.key)).toEqual(["a"]);
  });

  it("reciprocal-rank fusion ranks a document found by both lists first", () => {
    const words = ["w1", "both", "w2", "w3"];
    const near = ["n1", "n2", "n3", "both"];
    const fused = fuseRanks([words, near], (x) => x);
    expect(fused[0]!.item).toBe("both");
    expect(fused[0]!.score).toBeCloseTo(1 / 62 + 1 / 64, 10);
    expect(fused).toHaveLength(7);
  });
});

const TOPICS = [
  "otters swimming in kelp",
  "volcano lava eruption",
  "violin concerto orchestra",
  "glacier ice melting",
];

describe("search --semantic and --hybrid through the CLI", () => {
  let ws: Workspace;
  let server: FaultServer;
  afterEach(async () => {
    await server.close();
    ws.cleanup();
  });

  it("embeds a job through the embeddings server, then finds by KNN and by hybrid fusion", async () => {
    ws = new Workspace();
    server = await startFaultServer();
    const files: Record<string, string> = {};
    for (let i = 0; i < 24; i++) files[`note-${i}.md`] = `note ${i} about ${TOPICS[i % TOPICS.length]!}`;
    files["both.md"] = "otters otters swimming kelp volcano";
    ws.commit(files);
    ws.write(
      "syncwarden.yaml",
      `sync: { max_retries: 1, retry_wait_seconds: 0 }
providers:
  embeddings: { base_url: ${server.url}/v1, timeout: 5 }
jobs:
  notes:
    phases:
      - name: files
        source: { type: git, repo: ./repo }
        enrich: [{ type: openai-embeddings, provider: embeddings, model: test-embed, degradable: true }]
        sink: { type: sqlite-docs, table: notes }
`,
    );
    const cli = (...args: string[]) => runCli(args, { cwd: ws.dir });
    const run = await cli("run", "--json");
    expect(run.code, run.stderr).toBe(0);
    const db = ws.db();
    expect(db.prepare("SELECT COUNT(*) AS n FROM vectors").get()).toEqual({ n: 25 });
    expect(db.prepare("SELECT COUNT(*) AS n FROM vector_indexes").get()).toEqual({ n: 1 });
    db.close();

    const semantic = await cli("search", "--semantic", "otters", "swimming", "kelp", "--json");
    expect(semantic.code, semantic.stderr).toBe(0);
    expect(semantic.stderr).not.toContain("warning");
    const near = JSON.parse(semantic.stdout) as { key: string; score: number }[];
    expect(near).toHaveLength(10);
    expect(near.slice(0, 6).every((h) => /note-(0|4|8|12|16|20)\.md|both\.md/.test(h.key))).toBe(true);

    const hybrid = await cli("search", "--hybrid", "volcano", "otters", "--json");
    expect(hybrid.code, hybrid.stderr).toBe(0);
    const fused = JSON.parse(hybrid.stdout) as { key: string; score: number; snippet: string }[];
    // only both.md has both words (the one bm25 hit), and it is near both topics
    expect(fused[0]!.key).toBe("both.md");
    expect(fused[0]!.snippet).toContain("[volcano]");
    // the words hit's place travels with the fused hit: the file and the first line of its chunk
    expect(fused[0]).toMatchObject({ path: "both.md", line: 1 });
    const text = await cli("search", "--hybrid", "volcano", "otters");
    expect(text.stdout).toMatch(/^both\.md:1 {2}\(notes, rrf 0\.\d{4}\)/);
  });
});
