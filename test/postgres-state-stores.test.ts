import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { PgLockStore } from "../src/ledger/postgres/lock-store.js";
import { PgDatabase } from "../src/ledger/postgres/pg-database.js";
import { PgResilienceStore } from "../src/ledger/postgres/resilience-store.js";
import { PgRunStore } from "../src/ledger/postgres/run-store.js";
import type { BreakerRecord } from "../src/ledger/types.js";
import { dropSchema, freshSchema, testPostgres } from "./helpers/postgres.js";

afterAll(async () => (await testPostgres()).stop());

/** The state stores of one process: its own pool on the shared schema. */
interface Process {
  runs: PgRunStore;
  locks: PgLockStore;
  resilience: PgResilienceStore;
}

// races the contract does not run: many callers from two pools (standing in for machines) at once on
// rows that may not exist yet, and values PostgreSQL's types refuse where SQLite's keep them
describe("postgres runs, locks and resilience stores under concurrent callers", () => {
  let url: string;
  let schema: string;
  let dbs: PgDatabase[];
  let procs: Process[];
  beforeEach(async () => {
    url = (await testPostgres()).url;
    schema = freshSchema();
    dbs = [0, 1].map(() => new PgDatabase({ url, schema, poolSize: 8 }));
    procs = dbs.map((db) => ({
      runs: new PgRunStore(db),
      locks: new PgLockStore(db),
      resilience: new PgResilienceStore(db),
    }));
  });
  afterEach(async () => {
    for (const db of dbs) await db.close();
    await dropSchema(url, schema);
  });
  const racing = <T>(n: number, call: (p: Process, i: number) => Promise<T>): Promise<T[]> =>
    Promise.all(Array.from({ length: n }, (_, i) => call(procs[i % 2]!, i)));

  it("40 racing probe acquirers of a provider with no row yet: exactly max get one", async () => {
    const got = await racing(40, (p, i) => p.resilience.acquireProbe("emb", `o${i}`, 3, 60_000));
    expect(got.filter(Boolean)).toHaveLength(3);
  });

  it("40 racing token reservations of a new bucket each get a slot of their own", async () => {
    const perMs = 1 / 100_000; // a slot every 100 s: the refill while they race is negligible
    const waits = await racing(40, (p) => p.resilience.reserveToken("api", 1, perMs));
    expect(waits.map((w) => Math.round(w / 100_000)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, i) => i),
    );
  });

  it("racing creators of a breaker: every increment counts", async () => {
    const increment = (c: BreakerRecord | undefined, now: number): BreakerRecord => ({
      provider: "emb",
      state: "closed",
      successes: 0,
      openedAt: null,
      openUntil: null,
      reopenCount: 0,
      isolated: false,
      reason: null,
      ...c,
      failures: (c?.failures ?? 0) + 1,
      updatedAt: now,
    });
    await racing(30, (p) => p.resilience.updateBreaker("emb", increment));
    expect((await procs[0]!.resilience.readBreaker("emb")).record?.failures).toBe(30);
  });

  it("two closers of one unfinished run at once: one closes it, the other changes nothing", async () => {
    await procs[0]!.runs.start({ id: "r1", job: "j", trigger: "cli", owner: "o" });
    const closed = await racing(2, (p, i) => p.runs.interrupt("r1", () => ({ by: i })));
    const winner = closed.filter((r) => r !== undefined);
    expect(winner).toHaveLength(1);
    const [listed] = await procs[1]!.runs.list("j", 1);
    expect(listed).toMatchObject({ status: "interrupted", result: winner[0]!.result });
    expect(listed!.finishedAt).toBe(winner[0]!.finishedAt);
  });

  it("rounds of racing acquirers: one winner each, fences strictly increasing", async () => {
    const fences: number[] = [];
    for (let round = 0; round < 5; round++) {
      const attempts = await racing(6, (p, i) =>
        p.locks.acquire("j", { owner: `o${round}-${i}`, pid: 1, host: "h" }, 60_000),
      );
      const won = attempts.flatMap((a) => (a.acquired ? [a.lock] : []));
      expect(won).toHaveLength(1);
      for (const a of attempts) if (!a.acquired) expect(a.holder.fence).toBe(won[0]!.fence);
      fences.push(won[0]!.fence);
      await procs[0]!.locks.release("j", won[0]!.owner);
    }
    for (let i = 1; i < fences.length; i++) expect(fences[i]).toBeGreaterThan(fences[i - 1]!);
  });

  it("a run result with a NUL or a lone surrogate half is stored (as U+FFFD), not refused", async () => {
    const runs = procs[0]!.runs;
    await runs.start({ id: "r1", job: "j", trigger: "cli", owner: "o" });
    await runs.finish("r1", "failed", { error: "bad\u0000byte", half: "x\ud800y", pair: "\ud83d\ude00" });
    expect((await runs.list("j", 1))[0]!.result).toEqual({
      error: "bad\ufffdbyte",
      half: "x\ufffdy",
      pair: "\ud83d\ude00",
    });
  });

  it("times and durations with a fraction of a ms are rounded up into BIGINT, not refused", async () => {
    const { resilience, locks } = procs[0]!;
    const opened = await resilience.updateBreaker("p", (_c, now) => ({
      provider: "p",
      state: "open",
      failures: 1,
      successes: 0,
      openedAt: now,
      openUntil: now + 1100.5,
      reopenCount: 0,
      isolated: false,
      reason: null,
      updatedAt: now,
    }));
    expect(opened!.openUntil! - opened!.openedAt!).toBe(1101);
    expect((await resilience.readBreaker("p")).record).toEqual(opened);
    expect(await resilience.pauseGate("p", 1.005 * 1000, "429")).toBe(true);
    expect(await resilience.acquireProbe("p", "o", 1, 2.5)).toBe(true);
    const attempt = await locks.acquire("j", { owner: "o", pid: 1, host: "h" }, 1.005 * 1000); // 1004.9999999999999
    expect(attempt.acquired && attempt.lock.expiresAt - attempt.lock.heartbeatAt).toBe(1005);
    expect(attempt.acquired && (await locks.renew("j", "o", attempt.lock.fence, 2.5))).toBe(true);
  });
});
