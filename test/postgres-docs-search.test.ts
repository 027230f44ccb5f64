import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { PgDocumentStore } from "../src/ledger/postgres/document-store.js";
import { PgDatabase } from "../src/ledger/postgres/pg-database.js";
import type { DocumentUpsert } from "../src/ledger/types.js";
import { dropSchema, freshSchema, testPostgres } from "./helpers/postgres.js";

afterAll(async () => (await testPostgres()).stop());

const doc = (key: string, content: string, extra: Partial<DocumentUpsert> = {}): DocumentUpsert => ({
  kind: "upsert",
  job: "j",
  collection: "code",
  key,
  version: "1",
  content,
  ...extra,
});

// the PostgreSQL document store on its own (the search CLI over it is wired elsewhere): what websearch
// syntax does to a query, what the headline shows, how hits rank, and how a batch of writes applies
describe("postgres document store: search and writes", () => {
  let url: string;
  let schema: string;
  let db: PgDatabase;
  let docs: PgDocumentStore;
  beforeEach(async () => {
    url = (await testPostgres()).url;
    schema = freshSchema();
    db = new PgDatabase({ url, schema, poolSize: 2 });
    docs = new PgDocumentStore(db);
  });
  afterEach(async () => {
    await db.close();
    await dropSchema(url, schema);
  });
  const keys = async (query: string, job?: string): Promise<string[]> =>
    (await docs.search(query, { limit: 10, ...(job ? { job } : {}) })).map((h) => h.key).sort();

  it("websearch syntax: plain words all match, a quoted phrase keeps its order, -word excludes, or widens", async () => {
    await docs.write([
      doc("phrase", "the circuit breaker opens after five failures"),
      doc("apart", "a breaker trips; the circuit is open"),
      doc("fuse", "a fuse blows instead of a breaker"),
      doc("other", "nothing of the kind here"),
    ]);
    expect(await keys("circuit breaker")).toEqual(["apart", "phrase"]);
    expect(await keys('"circuit breaker"')).toEqual(["phrase"]);
    expect(await keys("breaker -fuse")).toEqual(["apart", "phrase"]);
    expect(await keys("fuse or failures")).toEqual(["fuse", "phrase"]);
    // nothing the index can look up: no hits rather than every chunk without the word
    expect(await keys("-breaker")).toEqual([]);
    expect(await keys('"(* &|!')).toEqual([]);
    expect(await keys("   ")).toEqual([]);
    // a quote left open and query operators of to_tsquery are a person's punctuation
    expect(await keys('"circuit breaker')).toEqual(["phrase"]);
    expect(await keys("breaker & !fuse")).toEqual(["fuse"]);
  });

  it("punctuation in code breaks words as SQLite's tokenizer does, in the chunks, the query and the snippet", async () => {
    await docs.write([
      doc(
        "census.ts",
        'const lines = text.split("\\n");\nthis.members.push(otter);\nimport x from "src/raft.ts";',
      ),
      doc("mail", "write to otters@river.org about v1.2.3"),
    ]);
    expect(await keys("split")).toEqual(["census.ts"]);
    expect(await keys("members push")).toEqual(["census.ts"]);
    expect(await keys("this.members.push")).toEqual(["census.ts"]);
    expect(await keys("raft")).toEqual(["census.ts"]);
    expect(await keys("river")).toEqual(["mail"]);
    expect(await keys("otters@river.org")).toEqual(["mail"]);
    expect(await keys("v1 3")).toEqual(["mail"]);
    expect(await keys('"members push"')).toEqual(["census.ts"]);
    expect(await keys("push -river")).toEqual(["census.ts"]);
    const [hit] = await docs.search("split", { limit: 1 });
    expect(hit!.snippet).toContain("text.[split](");
    expect(hit!.snippet).not.toMatch(/\u200b/);
  });

  it("the snippet is a short headline of the best chunk with the match marked as SQLite marks it", async () => {
    const filler = Array.from({ length: 300 }, (_, i) => `filler${i}`).join(" ");
    await docs.write([doc("long", `${filler} the retry budget ran out ${filler}`)]);
    const [hit] = await docs.search("budget", { limit: 1 });
    expect(hit!.snippet).toContain("[budget]");
    expect(hit!.snippet.split(/\s+/).length).toBeLessThanOrEqual(20);
  });

  it("ranking: best first (lower score is better, as bm25 on SQLite), one hit per document", async () => {
    await docs.write([
      doc("once", "a lease expires once in a long while, then other words follow for a long time"),
      doc("dense", "lease lease lease: the lease is renewed before the lease expires"),
      doc("chunks", "", {
        chunks: [
          { content: "lease here", startLine: 1, endLine: 1 },
          { content: "lease there", startLine: 2, endLine: 2 },
        ],
      }),
    ]);
    const hits = await docs.search("lease", { limit: 10 });
    expect(hits.map((h) => h.key)).toHaveLength(3);
    expect(hits[0]!.key).toBe("dense");
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => a - b));
    expect(hits[0]!.score).toBeLessThan(0);
  });

  it("a file cut by lines answers with its best chunk's path, lines, symbol and language", async () => {
    await docs.write([
      doc("src/a.ts", "", {
        metadata: { path: "src/a.ts" },
        chunks: [
          { content: "import x from 'y';\n", startLine: 1, endLine: 1, language: "typescript" },
          {
            content: "export function renewLease() { return renew(); }\n",
            startLine: 3,
            endLine: 5,
            symbol: "renewLease",
            language: "typescript",
          },
        ],
      }),
      doc("notes", "renew by hand"),
    ]);
    const hits = await docs.search("renew", { limit: 10 });
    expect(hits.find((h) => h.key === "src/a.ts")).toMatchObject({
      path: "src/a.ts",
      line: 3,
      endLine: 5,
      symbol: "renewLease",
      language: "typescript",
    });
    const notes = hits.find((h) => h.key === "notes")!;
    expect(notes.path).toBeUndefined();
    expect(notes.line).toBeUndefined();
    expect((await docs.get("j", "code", "src/a.ts"))?.content).toBe(
      "import x from 'y';\nexport function renewLease() { return renew(); }\n",
    );
  });

  it("one batch naming a document several times applies its writes in order", async () => {
    const vector = { model: "m", values: [1, 0] };
    await docs.write([
      doc("a", "first", { version: "1" }),
      { kind: "vector", job: "j", collection: "code", key: "a", version: "1", vector },
      doc("b", "bee", { vector }),
      doc("a", "second", { version: "2" }),
      // paid for version 1, which the batch has already replaced
      { kind: "vector", job: "j", collection: "code", key: "a", version: "1", vector },
      { kind: "delete", job: "j", collection: "code", key: "b" },
      doc("b", "bee again", { version: "2" }),
    ]);
    expect(await docs.get("j", "code", "a")).toEqual({ version: "2", content: "second" });
    expect(await docs.get("j", "code", "b")).toEqual({ version: "2", content: "bee again" });
    expect(await docs.countVectors("j")).toBe(0);
    // the same version again is a no-op: its content and its vector stay
    await docs.write([{ kind: "vector", job: "j", collection: "code", key: "a", version: "2", vector }]);
    await docs.write([doc("a", "ignored", { version: "2" })]);
    expect(await docs.get("j", "code", "a")).toEqual({ version: "2", content: "second" });
    expect(await docs.countVectors("j")).toBe(1);
  });

  it("a large batch goes in whole; apply commits or rolls back with the caller's transaction", async () => {
    const many = Array.from({ length: 1_000 }, (_, i) => doc(`k${i}`, `document number${i} of many`));
    await docs.write(many);
    expect(await docs.count({ job: "j" })).toBe(1_000);
    expect(await keys("number999")).toEqual(["k999"]);
    await expect(
      db.tx(async (c) => {
        await docs.apply(c, [
          doc("rolled", "rolled back"),
          { kind: "delete", job: "j", collection: "code", key: "k1" },
        ]);
        throw new Error("the settlement failed");
      }),
    ).rejects.toThrow("the settlement failed");
    expect(await docs.get("j", "code", "rolled")).toBeUndefined();
    expect(await docs.get("j", "code", "k1")).toBeDefined();
  });

  it("forget removes one job's documents, chunks and vectors and nothing of another job", async () => {
    const vector = { model: "m", values: [1, 2, 3] };
    await docs.write([doc("a", "gone words", { vector }), doc("b", "kept words", { job: "k", vector })]);
    await db.tx((c) => docs.forget(c, "j"));
    expect(await docs.count({})).toBe(1);
    expect(await docs.countVectors(undefined)).toBe(1);
    expect(await keys("words")).toEqual(["b"]);
    const [chunks] = await db.query<{ n: number }>("SELECT count(*) AS n FROM chunks");
    expect(chunks?.n).toBe(1);
  });

  it("semantic search: without pgvector a linear scan in SQL, said so; vectors of the query's size only", async () => {
    await docs.write([
      doc("x", "x", { vector: { model: "m", values: [1, 0, 0] } }),
      doc("zero", "zero", { vector: { model: "m", values: [0, 0, 0] } }),
      doc("short", "short", { vector: { model: "m", values: [1, 0] } }),
    ]);
    expect(await docs.countVectors(undefined)).toBe(3);
    const [pgvector] = await db.query("SELECT 1 FROM pg_extension WHERE extname = 'vector'");
    if (pgvector) expect(docs.vectorSearchWarning()).toBeUndefined();
    else expect(docs.vectorSearchWarning()).toMatch(/CREATE EXTENSION vector.*linear scan/);
    const hits = await docs.semanticSearch([2, 0, 0], { limit: 10 });
    expect(hits.map((h) => [h.key, h.score])).toEqual([
      ["x", expect.closeTo(1, 6)],
      ["zero", 0],
    ]);
    expect(hits[0]!.snippet).toBe("");
  });
});
