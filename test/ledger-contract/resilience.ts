import { describe, expect, it } from "vitest";
import type { BreakerRecord } from "../../src/ledger/types.js";
import { openPlan, settlement, sleep } from "./fixtures.js";
import type { ContractOptions, Harness } from "./harness.js";

const closed = (provider: string, now: number): BreakerRecord => ({
  provider,
  state: "closed",
  failures: 0,
  successes: 0,
  openedAt: null,
  openUntil: null,
  reopenCount: 0,
  isolated: false,
  reason: null,
  updatedAt: now,
});

export function resilienceContract(h: Harness, options: ContractOptions): void {
  describe("resilience: breakers and probes", () => {
    it("readBreaker gives the ledger's clock (near this process's, and moving forward)", async () => {
      const { ledger } = h();
      const first = await ledger.resilience.readBreaker("emb");
      expect(first.record).toBeUndefined();
      expect(Math.abs(first.now - Date.now())).toBeLessThan(options.clockToleranceMs);
      await sleep(50);
      const second = await (await h().second()).resilience.readBreaker("emb");
      expect(second.now - first.now).toBeGreaterThanOrEqual(40);
      expect(second.now - first.now).toBeLessThan(5_000);
    });

    it("readCallState gives a call's breaker, its gate's pause and the clock in one reading", async () => {
      const { ledger } = h();
      const other = await h().second();
      const fresh = await ledger.resilience.readCallState("api");
      expect(fresh.breaker).toBeUndefined();
      expect(fresh.pausedUntil).toBe(0);
      expect(Math.abs(fresh.now - Date.now())).toBeLessThanOrEqual(options.clockToleranceMs);
      await other.resilience.updateBreaker("api", (_cur, now) => ({
        ...closed("api", now),
        state: "open",
        failures: 5,
        openedAt: now,
        openUntil: now + 60_000,
        isolated: true,
      }));
      await other.resilience.pauseGate("api", 10_000, "429");
      const later = await ledger.resilience.readCallState("api");
      expect(later.breaker).toMatchObject({ state: "open", failures: 5, isolated: true });
      expect(later.breaker!.openUntil! - later.now).toBeGreaterThan(55_000);
      expect(later.pausedUntil - later.now).toBeGreaterThan(5_000);
      // another provider's state is not this one's
      expect((await ledger.resilience.readCallState("other")).breaker).toBeUndefined();
    });

    it("updateBreaker passes the record and the ledger's clock and stores what change returns", async () => {
      const { ledger } = h();
      const before = (await ledger.resilience.readBreaker("emb")).now;
      let seen: number | undefined;
      const opened = await ledger.resilience.updateBreaker("emb", (current, now) => {
        expect(current).toBeUndefined();
        seen = now;
        return {
          ...closed("emb", now),
          state: "open",
          failures: 5,
          openedAt: now,
          openUntil: now + 60_000,
          reason: "5 failures",
        };
      });
      const after = (await ledger.resilience.readBreaker("emb")).now;
      expect(seen).toBeGreaterThanOrEqual(before);
      expect(seen).toBeLessThanOrEqual(after);
      expect(opened).toMatchObject({ state: "open", failures: 5, openUntil: seen! + 60_000 });
      expect((await ledger.resilience.readBreaker("emb")).record).toEqual(opened);

      // undefined: no change, the record as it stands
      expect(await ledger.resilience.updateBreaker("emb", () => undefined)).toEqual(opened);
      const isolated = await ledger.resilience.updateBreaker("emb", (c) => c && { ...c, isolated: true });
      expect(await ledger.resilience.listBreakers()).toEqual([isolated]);
      expect(isolated?.isolated).toBe(true);
    });

    it("updateBreaker is an atomic read-modify-write: concurrent increments from two processes all count", async () => {
      const { ledger } = h();
      const other = await h().second();
      const increment = (now: number, c: BreakerRecord | undefined): BreakerRecord => ({
        ...(c ?? closed("emb", now)),
        failures: (c?.failures ?? 0) + 1,
        updatedAt: now,
      });
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 ? other : ledger).resilience.updateBreaker("emb", (c, now) => increment(now, c)),
        ),
      );
      expect((await ledger.resilience.readBreaker("emb")).record?.failures).toBe(100);
    });

    it("at most max probes across processes; a released or expired probe frees its slot", async () => {
      const { ledger } = h();
      const other = await h().second();
      const r = ledger.resilience;
      expect(await r.acquireProbe("emb", "p1", 2, 60_000)).toBe(true);
      expect(await other.resilience.acquireProbe("emb", "p2", 2, 60_000)).toBe(true);
      expect(await r.acquireProbe("emb", "p3", 2, 60_000)).toBe(false);
      expect(await other.resilience.acquireProbe("emb", "p4", 2, 60_000)).toBe(false);
      expect(await r.acquireProbe("other-provider", "p3", 2, 60_000)).toBe(true);
      await other.resilience.releaseProbe("emb", "p1");
      expect(await r.acquireProbe("emb", "p3", 2, 50)).toBe(true);
      expect(await r.acquireProbe("emb", "p4", 2, 60_000)).toBe(false);
      await sleep(120);
      expect(await other.resilience.acquireProbe("emb", "p4", 2, 60_000)).toBe(true);
      await r.clearProbes("emb");
      expect(await r.acquireProbe("emb", "p5", 2, 60_000)).toBe(true);
      expect(await r.acquireProbe("emb", "p6", 2, 60_000)).toBe(true);
    });
  });

  describe("resilience: rate gates and token buckets", () => {
    it("pauseGate extends the shared pause, never shortens it, and says whether it extended it", async () => {
      const { ledger } = h();
      const other = await h().second();
      expect((await ledger.resilience.readGate("api")).record).toBeUndefined();
      expect(await ledger.resilience.pauseGate("api", 2_000, "429")).toBe(true);
      const first = await other.resilience.readGate("api");
      expect(first.record).toMatchObject({ provider: "api", reason: "429" });
      const left = first.record!.pausedUntil - first.now;
      expect(left).toBeGreaterThan(1_000);
      expect(left).toBeLessThanOrEqual(2_000);

      expect(await other.resilience.pauseGate("api", 100, "shorter")).toBe(false);
      expect((await ledger.resilience.readGate("api")).record).toMatchObject({
        pausedUntil: first.record!.pausedUntil,
        reason: "429",
      });
      expect(await other.resilience.pauseGate("api", 10_000, "Retry-After 10")).toBe(true);
      const longer = (await ledger.resilience.readGate("api")).record!;
      expect(longer.pausedUntil).toBeGreaterThan(first.record!.pausedUntil);
      expect(longer.reason).toBe("Retry-After 10");
      expect((await ledger.resilience.listGates()).map((g) => g.provider)).toEqual(["api"]);
    });

    it("a pause that has passed is extended by a new one", async () => {
      const { ledger } = h();
      expect(await ledger.resilience.pauseGate("api", 30, "429")).toBe(true);
      await sleep(80);
      const { record, now } = await ledger.resilience.readGate("api");
      expect(record!.pausedUntil).toBeLessThan(now);
      expect(await ledger.resilience.pauseGate("api", 30, "again")).toBe(true);
    });

    it("reserveToken gives waiting callers in any process one slot each, in turn", async () => {
      const { ledger } = h();
      const other = await h().second();
      const perMs = 20 / 1000; // 20 per second: a slot every 50 ms
      const waits: number[] = [];
      for (let n = 0; n < 6; n++)
        waits.push(await (n % 2 ? other : ledger).resilience.reserveToken("api", 1, perMs));
      expect(waits[0]).toBe(0);
      for (let n = 1; n < waits.length; n++) {
        expect(waits[n], `reservation ${n}`).toBeGreaterThan(n * 50 - 25);
        expect(waits[n], `reservation ${n}`).toBeLessThanOrEqual(n * 50);
      }
    });

    it("the bucket refills over time, up to its capacity", async () => {
      const { ledger } = h();
      const r = ledger.resilience;
      const perMs = 20 / 1000;
      for (let n = 0; n < 3; n++) expect(await r.reserveToken("api", 3, perMs)).toBe(0);
      expect(await r.reserveToken("api", 3, perMs)).toBeGreaterThan(0);
      // the debt of one token is paid after 50 ms; 250 ms more refill 3 (the capacity), not 5
      await sleep(300);
      for (let n = 0; n < 3; n++) expect(await r.reserveToken("api", 3, perMs)).toBe(0);
      expect(await r.reserveToken("api", 3, perMs)).toBeGreaterThan(25);
    });
  });

  describe("resilience: token buckets by amount (requests and tokens per minute)", () => {
    it("reserves an amount at once, gives some back, and caps the bucket at what the provider says remains", async () => {
      const { ledger } = h();
      const r = ledger.resilience;
      const perMs = 1000 / 60_000; // 1,000 a minute
      expect(await r.reserveToken("llm#tokens", 1000, perMs, 600)).toBe(0);
      // 400 left: 500 more go 100 below zero, due in about 6 s
      const wait = await r.reserveToken("llm#tokens", 1000, perMs, 500);
      expect(wait).toBeGreaterThan(5_500);
      expect(wait).toBeLessThanOrEqual(6_000);
      // the answer used 300 of the 500 reserved: 200 back, so the next 100 fit at once
      await r.reserveToken("llm#tokens", 1000, perMs, -200);
      expect(await r.reserveToken("llm#tokens", 1000, perMs, 100)).toBe(0);
      // the provider says 50 remain: the bucket holds no more than that, whatever it believed
      await r.reserveToken("llm#tokens", 1000, perMs, 0, 50);
      const { record } = await r.readGate("llm#tokens");
      expect(record!.tokens).toBeLessThanOrEqual(50);
      expect(await r.reserveToken("llm#tokens", 1000, perMs, 200)).toBeGreaterThan(8_000);
    });
  });

  describe("resilience: debts", () => {
    /** Completes `keys` of job's plan stored raw: one debt (step 1, provider emb) per key. */
    async function owe(job: string, keys: string[]): Promise<void> {
      const { ledger } = h();
      const plan = await openPlan(ledger, keys, { ref: { job, phase: "p", scope: "" } });
      const items = await ledger.plans.claim(plan.id, "w", 60_000, keys.length);
      await ledger.plans.settle(
        items.map((i) =>
          settlement(plan, i, "COMPLETED", {
            fingerprint: "1",
            enriched: true,
            debts: [{ step: 1, provider: "emb", reason: "breaker open" }],
          }),
        ),
      );
    }

    it("an enriched completion stored raw records its debts; a full one pays them", async () => {
      const { ledger } = h();
      await owe("j", ["a", "b"]);
      const debts = await ledger.resilience.listDebts({ limit: 10 });
      expect(
        debts.map((d) => [d.job, d.phase, d.key, d.version, d.step, d.provider, d.reason, d.attempts]),
      ).toEqual([
        ["j", "p", "a", "1", 1, "emb", "breaker open", 0],
        ["j", "p", "b", "1", 1, "emb", "breaker open", 0],
      ]);

      const plan = await openPlan(ledger, [{ key: "a", version: "2", op: "upsert" }], { target: "T2" });
      const [a] = await ledger.plans.claim(plan.id, "w", 60_000, 1);
      await ledger.plans.settle([settlement(plan, a!, "COMPLETED", { fingerprint: "2", enriched: true })]);
      expect((await ledger.resilience.listDebts({ limit: 10 })).map((d) => d.key)).toEqual(["b"]);
    });

    it("counts debts per job and lists them in pages", async () => {
      const { ledger } = h();
      await owe("a", ["k1", "k2", "k3"]);
      await owe("b", ["k1", "k2"]);
      expect(await ledger.resilience.countDebts(undefined)).toBe(5);
      expect(await ledger.resilience.countDebts("a")).toBe(3);
      expect(await ledger.resilience.countDebtsByJob()).toEqual({ a: 3, b: 2 });

      const seen: string[] = [];
      let afterId: number | undefined;
      for (let pages = 0; ; pages++) {
        const page = await ledger.resilience.listDebts({
          limit: 2,
          ...(afterId === undefined ? {} : { afterId }),
        });
        if (page.length === 0) {
          expect(pages).toBe(3);
          break;
        }
        expect(page.length).toBeLessThanOrEqual(2);
        seen.push(...page.map((d) => `${d.job}/${d.key}`));
        afterId = page[page.length - 1]!.id;
      }
      expect(seen).toEqual(["a/k1", "a/k2", "a/k3", "b/k1", "b/k2"]);
      expect((await ledger.resilience.listDebts({ job: "b", limit: 10 })).map((d) => d.key)).toEqual([
        "k1",
        "k2",
      ]);
    });

    it("settleDebt: paid removes the debt; unpaid counts one more attempt with its reason", async () => {
      const { ledger } = h();
      await owe("j", ["a", "b"]);
      const [a, b] = await ledger.resilience.listDebts({ limit: 10 });
      await ledger.resilience.settleDebt(a!.id, true, null);
      await ledger.resilience.settleDebt(b!.id, false, "429");
      await ledger.resilience.settleDebt(b!.id, false, "503");
      const left = await ledger.resilience.listDebts({ limit: 10 });
      expect(left).toEqual([{ ...b, attempts: 2, reason: "503" }]);
      expect(await ledger.resilience.countDebts("j")).toBe(1);
    });
  });
}
