import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Ledger } from "../src/ledger/ledger.js";
import { copyLedger, ledgerTallies, LedgerNotEmptyError } from "../src/ledger/ledger-copy.js";
import { LEDGER_TABLES } from "../src/ledger/ledger-tables.js";
import { openPostgresLedger } from "../src/ledger/postgres/postgres-ledger.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import type { DocumentUpsert, PlanRecord } from "../src/ledger/types.js";
import { dropSchema, freshSchema, testPostgres } from "./helpers/postgres.js";
import { completeAll, openPlan, phaseRef, settlement } from "./ledger-contract/fixtures.js";

afterAll(async () => (await testPostgres()).stop());

const upsert = (key: string, content: string, extra: Partial<DocumentUpsert> = {}): DocumentUpsert => ({
  kind: "upsert",
  job: "j",
  collection: "code",
  key,
  version: "1",
  content,
  ...extra,
});

/** A ledger holding a row in every table: items in every status, leases, debts, documents with chunks and vectors. */
async function seed(ledger: Ledger): Promise<{ plan: PlanRecord }> {
  await ledger.runs.start({ id: "r1", job: "j", trigger: "manual", owner: "me" });
  await ledger.runs.finish("r1", "ok", { z: 1, a: [1, "two", { y: null, x: 1.5 }], 'quote"d': "é" });
  await ledger.runs.start({ id: "r2", job: "j", trigger: "schedule", owner: "me" });

  const keys = Array.from({ length: 12 }, (_, i) => ({
    key: `k${i}`,
    version: "v1",
    op: "upsert" as const,
    ...(i % 3 === 0 ? { meta: { path: `src/k${i}.ts`, size: i * 10, nested: { b: true, a: [i] } } } : {}),
  }));
  const plan = await openPlan(ledger, keys);
  const claimed = await ledger.plans.claim(plan.id, "worker-1", 600_000, 10);
  const by = (k: string) => claimed.find((c) => c.key === k)!;
  await ledger.plans.settle([
    settlement(plan, by("k0"), "COMPLETED", { fingerprint: "v1" }),
    settlement(plan, by("k1"), "COMPLETED", {
      fingerprint: "v1",
      enriched: true,
      debts: [{ step: 1, provider: "llm", reason: "llm down" }],
    }),
    settlement(plan, by("k2"), "SKIPPED", { reason: "unchanged" }),
    settlement(plan, by("k3"), "FAILED", {
      attempts: 1,
      retryInMs: 600_000,
      errorClass: "transient",
      errorMessage: "boom",
    }),
    settlement(plan, by("k4"), "DEAD", { attempts: 5, errorClass: "permanent", errorMessage: "gone" }),
    settlement(plan, by("k5"), "PENDING", {
      retryInMs: 600_000,
      errorClass: "unavailable",
      reason: "breaker",
    }),
  ]);
  // k6..k9 stay PROCESSING under worker-1's lease; k10, k11 stay PENDING

  const done = await openPlan(ledger, ["a", "b"], { ref: phaseRef("j", "q") });
  await completeAll(ledger, done);
  expect(await ledger.plans.closePlan(done)).toBe(true);

  await ledger.events.append([
    { ts: 1, runId: "r1", job: "j", level: "info", type: "run:start", message: "started" },
    {
      ts: 2,
      runId: "r1",
      job: "j",
      level: "warn",
      type: "x",
      message: "with data",
      data: { n: 1, list: [1, 2] },
    },
    { ts: 3, runId: null, job: null, level: "error", type: "y", message: "null data", data: null },
  ]);
  await ledger.meta.set("last_success:j", "42");
  await ledger.meta.set("schema-note", "ünïcode ✓");

  await ledger.resilience.updateBreaker("llm", (_cur, now) => ({
    provider: "llm",
    state: "open",
    failures: 5,
    successes: 0,
    openedAt: now,
    openUntil: now + 60_000,
    reopenCount: 2,
    isolated: true,
    reason: "5 failures",
    updatedAt: now,
  }));
  expect(await ledger.resilience.acquireProbe("llm", "worker-1", 2, 60_000)).toBe(true);
  await ledger.resilience.pauseGate("github", 60_000, "429");
  await ledger.resilience.reserveToken("bucket", 10, 0.003);

  const lock = await ledger.locks.acquire("j", { owner: "worker-1", pid: 4242, host: "h" }, 60_000);
  expect(lock.acquired).toBe(true);

  await ledger.documents!.write([
    upsert("src/alpha.ts", "export function alphaWidget() {\n  return 1;\n}\n", {
      metadata: { path: "src/alpha.ts", lang: "ts" },
      chunks: [
        {
          content: "export function alphaWidget() {\n  return 1;\n}\n",
          startLine: 1,
          endLine: 3,
          symbol: "alphaWidget",
          language: "typescript",
        },
      ],
      vector: { model: "m", values: [0.1, 0.2, 0.3, 0.4] },
    }),
    upsert("notes.md", "plain notes about the betaWidget and more", {
      vector: { model: "m", values: [-1, 0.5, 1e-7, 3.4e38] },
    }),
    upsert("big.txt", Array.from({ length: 600 }, (_, i) => `line ${i} gammaWidget`).join("\n")),
    upsert("other", "a different job's deltaWidget", { job: "k", collection: "notes" }),
  ]);
  // an episode with its knowledge: entities (one with an alias), mentions, facts (one invalidated)
  await ledger.documents!.write([
    upsert("s1-0", "we chose the zetaWidget library", { collection: "episodes", job: "mem" }),
    {
      kind: "knowledge",
      job: "mem",
      collection: "episodes",
      key: "s1-0",
      version: "1",
      origin: {
        session: "s1",
        firstTurn: 0,
        lastTurn: 2,
        startedAt: 1_000,
        endedAt: 2_000,
        source: "s1.jsonl",
        metadata: { branch: "main", tools: ["Read"] },
      },
      extraction: {
        summary: "picked zetaWidget",
        model: "m",
        usage: { promptTokens: 10, completionTokens: 3 },
        entities: [
          { name: "zetaWidget", type: "library", description: "widgets" },
          { name: "ZetaWidget", type: "library", description: "" },
        ],
        facts: [
          {
            subject: "app",
            relation: "uses",
            object: "yup",
            fact: "app uses yup",
            valid_at: null,
            exclusive: true,
          },
          {
            subject: "app",
            relation: "uses",
            object: "zetaWidget",
            fact: "app uses zetaWidget",
            valid_at: "1970-01-01T00:00:05Z",
            exclusive: true,
          },
        ],
      },
    },
  ]);
  return { plan };
}

describe("copyLedger: SQLite → PostgreSQL → SQLite", () => {
  let dir: string;
  let url: string;
  let schema: string;
  const handles: Ledger[] = [];
  const sqlite = (name: string): Ledger => {
    const l = openSqliteLedger(path.join(dir, name));
    handles.push(l);
    return l;
  };
  const postgres = (s = schema): Ledger => {
    const l = openPostgresLedger({ url, schema: s, poolSize: 4 });
    handles.push(l);
    return l;
  };

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "syncwarden-copy-"));
    url = (await testPostgres()).url;
    schema = freshSchema();
  });
  afterEach(async () => {
    for (const h of handles.splice(0)) await h.close();
    await dropSchema(url, schema);
    rmSync(dir, { recursive: true, force: true });
  });

  it("loses nothing either way: every table's count and checksum, and the copy back works", async () => {
    const a = sqlite("a.db");
    const { plan } = await seed(a);
    const original = await ledgerTallies(a.tables!);
    // the seed reaches every table, so the round trip proves each one
    for (const t of LEDGER_TABLES) expect(original[t.name]!.rows, t.name).toBeGreaterThan(0);

    const pg = postgres();
    const progress: string[] = [];
    const there = await copyLedger(a, pg, { onProgress: (p) => progress.push(p.table) });
    expect(there.tables).toEqual(original);
    expect(there.rows).toBe(Object.values(original).reduce((n, t) => n + t.rows, 0));
    expect(new Set(progress)).toEqual(new Set(LEDGER_TABLES.map((t) => t.name)));
    expect(await ledgerTallies(pg.tables!)).toEqual(original);

    const c = sqlite("c.db");
    const back = await copyLedger(pg, c);
    expect(back.tables).toEqual(original);
    expect(await ledgerTallies(c.tables!)).toEqual(original);
    // the checksums see one changed value
    await c.meta.set("last_success:j", "43");
    const changed = await ledgerTallies(c.tables!);
    expect(changed.metadata!.checksum).not.toBe(original.metadata!.checksum);
    expect({ ...changed, metadata: original.metadata }).toEqual(original);
    await c.meta.set("last_success:j", "42");
    expect(await ledgerTallies(c.tables!)).toEqual(original);

    // the copy back works: claims, counts, checkpoints, fingerprints, locks, breakers, runs
    expect(await c.plans.count(plan.id)).toEqual(await a.plans.count(plan.id));
    expect(await c.plans.count(plan.id)).toMatchObject({
      PENDING: 3,
      PROCESSING: 4,
      COMPLETED: 2,
      SKIPPED: 1,
      FAILED: 1,
      DEAD: 1,
    });
    const claimed = await c.plans.claim(plan.id, "worker-2", 60_000, 100);
    expect(claimed.map((i) => i.key).sort()).toEqual(["k10", "k11"]);
    expect(claimed.find((i) => i.key === "k0")).toBeUndefined();
    expect((await c.plans.checkpoint(phaseRef("j", "q")))?.value).toBe("T1");
    expect(await c.locks.read("j")).toMatchObject({ owner: "worker-1", pid: 4242, fence: 1 });
    expect((await c.resilience.readBreaker("llm")).record).toMatchObject({ state: "open", isolated: true });
    expect(await c.resilience.countDebts("j")).toBe(1);
    expect((await c.runs.list("j", 10)).find((r) => r.id === "r1")?.result).toEqual(
      (await a.runs.list("j", 10)).find((r) => r.id === "r1")?.result,
    );
    expect((await c.events.list({ limit: 10 })).map((e) => e.data)).toEqual(
      (await a.events.list({ limit: 10 })).map((e) => e.data),
    );
    const fresh = await c.plans.createPlan(phaseRef("j", "r"), null, "T2", "snapshot");
    expect(fresh.id).toBeGreaterThan(plan.id);

    // search finds the same documents, keyword and semantic
    for (const q of ["alphaWidget", "betaWidget", "gammaWidget", "deltaWidget", "widget"]) {
      const want = await a.documents!.search(q, { limit: 10 });
      expect(await c.documents!.search(q, { limit: 10 }), q).toEqual(want);
    }
    expect((await c.documents!.search("alphaWidget", { limit: 1 }))[0]).toMatchObject({
      key: "src/alpha.ts",
      line: 1,
      symbol: "alphaWidget",
    });
    const query = [0.1, 0.2, 0.3, 0.45];
    expect(await c.documents!.semanticSearch(query, { limit: 5 })).toEqual(
      await a.documents!.semanticSearch(query, { limit: 5 }),
    );
    expect(await c.documents!.get("j", "code", "big.txt")).toEqual(
      await a.documents!.get("j", "code", "big.txt"),
    );

    expect(c.documents!.vectorSearchWarning?.()).toBeUndefined();
    expect(await c.documents!.semanticSearch(query, { limit: 5 })).toHaveLength(2);

    // the knowledge came along: its searches and graph answer the same
    for (const l of [pg, c]) {
      expect(await l.knowledge!.stats()).toEqual(await a.knowledge!.stats());
      expect(await l.knowledge!.entity({ name: "zetawidget" })).toEqual(
        await a.knowledge!.entity({ name: "zetaWidget" }),
      );
      expect((await l.knowledge!.searchEntities("zetaWidget", { limit: 5 })).map((e) => e.aliases)).toEqual([
        ["ZetaWidget"],
      ]);
      expect((await l.knowledge!.searchEpisodes("zetaWidget", { limit: 5 })).map((e) => e.key)).toEqual([
        "s1-0",
      ]);
      expect((await l.knowledge!.searchFacts("yup", { limit: 5, includeInvalid: true }))[0]?.invalidAt).toBe(
        5_000,
      );
    }
    expect(await a.knowledge!.stats()).toMatchObject({ episodes: 1, entities: 3, facts: 2, validFacts: 1 });

    // and on PostgreSQL the same documents are found (its own ranking and snippets)
    const keys = (hits: { key: string }[]): string[] => hits.map((h) => h.key).sort();
    for (const q of ["alphaWidget", "betaWidget", "gammaWidget", "deltaWidget", "line 42"])
      expect(keys(await pg.documents!.search(q, { limit: 10 })), q).toEqual(
        keys(await a.documents!.search(q, { limit: 10 })),
      );
    expect((await pg.documents!.semanticSearch(query, { limit: 5 })).map((h) => h.key)).toEqual(
      (await a.documents!.semanticSearch(query, { limit: 5 })).map((h) => h.key),
    );
    expect(await pg.documents!.get("j", "code", "big.txt")).toEqual(
      await a.documents!.get("j", "code", "big.txt"),
    );

    // PostgreSQL hands out ids past the copied ones
    const pgPlan = await pg.plans.createPlan(phaseRef("j", "r"), null, "T2", "snapshot");
    expect(pgPlan.id).toBeGreaterThan(plan.id);
    await pg.events.append([{ ts: 4, runId: null, job: null, level: "info", type: "z", message: "after" }]);
    const ids = (await pg.events.list({ limit: 10 })).map((e) => e.id!);
    expect(ids[ids.length - 1]).toBeGreaterThan(ids[ids.length - 2]!);
  });

  it("refuses a destination that is not empty, naming it; replace: true replaces it", async () => {
    const a = sqlite("a.db");
    await seed(a);
    const pg = postgres();
    await pg.meta.set("already", "here");
    const refused = copyLedger(a, pg);
    await expect(refused).rejects.toBeInstanceOf(LedgerNotEmptyError);
    await expect(refused).rejects.toThrow(`the destination ledger ${pg.location} is not empty (metadata: 1)`);
    expect(await pg.meta.get("last_success:j")).toBeUndefined();

    const c = sqlite("c.db");
    await c.meta.set("already", "here");
    await expect(copyLedger(pg, c)).rejects.toThrow(`the destination ledger ${c.location} is not empty`);

    await copyLedger(a, pg, { replace: true });
    expect(await pg.meta.get("already")).toBeUndefined();
    expect(await ledgerTallies(pg.tables!)).toEqual(await ledgerTallies(a.tables!));
    // a SQLite destination with documents and vector indexes is replaced too
    await c.documents!.write([
      upsert("old.ts", "an old epsilonWidget", { vector: { model: "m", values: [1, 0, 0, 0] } }),
    ]);
    await copyLedger(pg, c, { replace: true });
    expect(await ledgerTallies(c.tables!)).toEqual(await ledgerTallies(a.tables!));
    expect(await c.documents!.search("epsilonWidget", { limit: 5 })).toEqual([]);
    const query = [1, 0, 0, 0];
    expect(await c.documents!.semanticSearch(query, { limit: 5 })).toEqual(
      await a.documents!.semanticSearch(query, { limit: 5 }),
    );
    await expect(copyLedger(a, a)).rejects.toThrow("onto itself");
  });

  it("refuses a schema with a column it does not know (a copy would miss it)", async () => {
    const a = sqlite("a.db");
    await seed(a);
    const raw = new Database(path.join(dir, "a.db"));
    raw.exec("ALTER TABLE metadata ADD COLUMN note TEXT");
    raw.close();
    await expect(copyLedger(a, postgres())).rejects.toThrow(
      `the source ledger ${a.location} has table metadata has columns a copy would miss: note`,
    );
  });

  it("PostgreSQL backs up to a SQLite ledger file and restores the newest sound one", async () => {
    const a = sqlite("a.db");
    await seed(a);
    const pg = postgres();
    await copyLedger(a, pg);
    const backup = path.join(dir, "backup.db");
    await pg.maintenance.backup(backup);
    const copy = sqlite("backup.db");
    expect(await ledgerTallies(copy.tables!)).toEqual(await ledgerTallies(a.tables!));
    expect(await copy.documents!.search("alphaWidget", { limit: 5 })).toEqual(
      await a.documents!.search("alphaWidget", { limit: 5 }),
    );
    expect(await pg.maintenance.integrity(true)).toEqual([]);

    // into another schema: the damaged (newest) candidate is rejected, the backup restored
    const damaged = path.join(dir, "damaged.db");
    writeFileSync(damaged, "not a database");
    const other = freshSchema();
    const target = postgres(other);
    try {
      await target.meta.set("to be", "replaced");
      const r = await target.maintenance.restore([
        { file: backup, at: 1 },
        { file: damaged, at: 2 },
      ]);
      expect(r).toMatchObject({ restored: true, from: backup, movedAside: [] });
      expect(r.rejected.map((x) => x.file)).toEqual([damaged]);
      expect(await ledgerTallies(target.tables!)).toEqual(await ledgerTallies(a.tables!));
      expect(await target.maintenance.integrity(true)).toEqual([]);
    } finally {
      await target.close();
      await dropSchema(url, other);
    }
  });
});
