import { describe, expect, it } from "vitest";
import { collect, completeAll, openPlan, phaseRef, settlement, sleep } from "./fixtures.js";
import type { Harness } from "./harness.js";

export function claimsContract(h: Harness): void {
  describe("items: claims and settlements", () => {
    it("a claim hands an item its identity, meta, previous version and a fence", async () => {
      const { ledger } = h();
      const first = await openPlan(ledger, ["a"]);
      await completeAll(ledger, first);
      await ledger.plans.closePlan(first);
      const plan = await openPlan(ledger, [
        { key: "a", version: "2", op: "upsert", meta: { path: "src/a.ts", size: 12 } },
        { key: "new", version: "1", op: "upsert" },
      ]);
      const claimed = await ledger.plans.claim(plan.id, "w", 60_000, 10);
      expect(claimed).toEqual([
        {
          id: expect.any(Number) as number,
          key: "a",
          version: "2",
          op: "upsert",
          fence: 1,
          attempts: 0,
          prevVersion: "1",
          meta: { path: "src/a.ts", size: 12 },
        },
        {
          id: expect.any(Number) as number,
          key: "new",
          version: "1",
          op: "upsert",
          fence: 1,
          attempts: 0,
          prevVersion: null,
          meta: undefined,
        },
      ]);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ PENDING: 0, PROCESSING: 2 });
    });

    it("hands each item to one owner only, across two processes claiming at once", async () => {
      const { ledger } = h();
      const other = await h().second();
      const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
      const plan = await openPlan(ledger, keys);
      const got = new Map<string, string>();
      const worker = async (handle: typeof ledger, owner: string): Promise<void> => {
        for (;;) {
          const batch = await handle.plans.claim(plan.id, owner, 60_000, 7);
          if (batch.length === 0) return;
          for (const item of batch) {
            expect(got.get(item.key), `${item.key} claimed twice`).toBeUndefined();
            got.set(item.key, owner);
          }
          await sleep(1);
        }
      };
      await Promise.all([
        worker(ledger, "a1"),
        worker(other, "b1"),
        worker(ledger, "a2"),
        worker(other, "b2"),
      ]);
      expect([...got.keys()].sort()).toEqual([...keys].sort());
      expect(new Set(got.values()).size).toBeGreaterThan(1);
      expect((await ledger.plans.leaseOwners(plan.id)).sort()).toEqual([...new Set(got.values())].sort());
    });

    it("every new claim of an item draws a larger fence", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a"]);
      const fences: number[] = [];
      for (let i = 0; i < 3; i++) {
        const [item] = await ledger.plans.claim(plan.id, `w${i}`, 60_000, 1);
        fences.push(item!.fence);
        expect(await ledger.plans.release(plan.id, `w${i}`)).toBe(1);
      }
      expect(fences[1]).toBeGreaterThan(fences[0]!);
      expect(fences[2]).toBeGreaterThan(fences[1]!);
    });

    it("a failed item is not handed out before its retryInMs, and is after it (attempts kept)", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a", "b"]);
      const [a, b] = await ledger.plans.claim(plan.id, "w", 60_000, 2);
      await ledger.plans.settle([
        settlement(plan, a!, "FAILED", {
          attempts: 1,
          retryInMs: 150,
          errorClass: "transient",
          errorMessage: "503",
        }),
        settlement(plan, b!, "COMPLETED", { fingerprint: "1" }),
      ]);
      const failedAt = performance.now();
      const wait = await ledger.plans.nextAttemptIn(plan.id);
      expect(wait).toBeGreaterThan(50);
      expect(wait).toBeLessThanOrEqual(150);
      expect(await ledger.plans.claim(plan.id, "w", 60_000, 10)).toEqual([]);
      await sleep(60);
      if (performance.now() - failedAt < 140) {
        expect(await ledger.plans.claim(plan.id, "w", 60_000, 10)).toEqual([]);
      }
      await sleep(200 - (performance.now() - failedAt));
      expect(await ledger.plans.nextAttemptIn(plan.id)).toBe(0);
      const [again] = await ledger.plans.claim(plan.id, "w", 60_000, 10);
      expect(again).toMatchObject({ key: "a", attempts: 1 });
      expect(again!.fence).toBeGreaterThan(a!.fence);
    });

    it("a deferred item (PENDING with retryInMs) waits without consuming an attempt", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a"]);
      const [a] = await ledger.plans.claim(plan.id, "w", 60_000, 1);
      await ledger.plans.settle([
        settlement(plan, a!, "PENDING", { retryInMs: 120, reason: "breaker open" }),
      ]);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ PENDING: 1, PROCESSING: 0 });
      expect(await ledger.plans.claim(plan.id, "w", 60_000, 1)).toEqual([]);
      await sleep(180);
      const [again] = await ledger.plans.claim(plan.id, "w", 60_000, 1);
      expect(again).toMatchObject({ key: "a", attempts: 0 });
    });

    it("a claim that spans a deferred or failed item still waiting leaves it alone and takes the due ones around it", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a", "b", "c", "d", "e"]);
      const [, b, , d] = await ledger.plans.claim(plan.id, "w", 60_000, 5);
      await ledger.plans.settle([
        settlement(plan, b!, "PENDING", { retryInMs: 60_000, reason: "deferred" }),
        settlement(plan, d!, "FAILED", { attempts: 1, retryInMs: 60_000, errorClass: "transient" }),
      ]);
      await ledger.plans.release(plan.id, "w");
      const again = await ledger.plans.claim(plan.id, "w2", 60_000, 10);
      expect(again.map((i) => i.key)).toEqual(["a", "c", "e"]);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ PENDING: 1, FAILED: 1, PROCESSING: 3 });
      const waiting = await collect(ledger.plans.listItems({ statuses: ["PENDING", "FAILED"] }));
      expect(waiting.map((r) => [r.key, r.status, r.attempts])).toEqual([
        ["b", "PENDING", 0],
        ["d", "FAILED", 1],
      ]);
    });

    it("nextAttemptIn: undefined when nothing waits, the time to the earliest due item otherwise", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a", "b", "c"]);
      expect(await ledger.plans.nextAttemptIn(plan.id)).toBeUndefined();
      const [a, b] = await ledger.plans.claim(plan.id, "w", 60_000, 2);
      await ledger.plans.settle([
        settlement(plan, a!, "FAILED", { attempts: 1, retryInMs: 30_000 }),
        settlement(plan, b!, "PENDING", { retryInMs: 10_000 }),
      ]);
      const wait = await ledger.plans.nextAttemptIn(plan.id);
      expect(wait).toBeGreaterThan(9_000);
      expect(wait).toBeLessThanOrEqual(10_000);
    });

    it("14.3 hastenDeferred makes only the plan's items deferred by an open breaker due now", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a", "b", "c", "d"]);
      const other = await openPlan(ledger, ["x"], { ref: phaseRef("other") });
      const [a, b, c, d] = await ledger.plans.claim(plan.id, "w", 60_000, 4);
      const [x] = await ledger.plans.claim(other.id, "w", 60_000, 1);
      const breaker = { retryInMs: 300_000, reason: "deferred", errorClass: "unavailable" } as const;
      await ledger.plans.settle([
        settlement(plan, a!, "PENDING", breaker),
        settlement(plan, b!, "PENDING", {
          retryInMs: 300_000,
          reason: "deferred",
          errorClass: "rate_limited",
        }),
        settlement(plan, c!, "FAILED", { attempts: 1, retryInMs: 300_000, errorClass: "unavailable" }),
        settlement(plan, d!, "PENDING", breaker),
        settlement(other, x!, "PENDING", breaker),
      ]);
      expect(await ledger.plans.claim(plan.id, "w2", 60_000, 10)).toEqual([]);

      expect(await ledger.plans.hastenDeferred(plan.id)).toBe(2);
      expect(await ledger.plans.nextAttemptIn(plan.id)).toBe(0);
      const again = await ledger.plans.claim(plan.id, "w2", 60_000, 10);
      expect(again.map((i) => [i.key, i.attempts])).toEqual([
        ["a", 0],
        ["d", 0],
      ]);
      // nothing left to hasten: the rate limit, the backoff and the other plan keep their times
      expect(await ledger.plans.hastenDeferred(plan.id)).toBe(0);
      expect(await ledger.plans.claim(other.id, "w2", 60_000, 10)).toEqual([]);
    });

    it("a settlement with a stale fence is ignored: the item stays with its new owner", async () => {
      const { ledger } = h();
      const other = await h().second();
      const plan = await openPlan(ledger, ["a", "b"]);
      const [oldA, oldB] = await ledger.plans.claim(plan.id, "old", 50, 2);
      await sleep(120);
      expect(await other.plans.requeueExpired(plan.id)).toBe(2);
      const [newA, newB] = await other.plans.claim(plan.id, "new", 60_000, 2);
      expect(newA).toMatchObject({ key: "a" });
      expect(newA!.fence).toBeGreaterThan(oldA!.fence);

      // the old holder wakes up and settles: nothing of it lands
      await ledger.plans.settle([
        settlement(plan, oldA!, "COMPLETED", { fingerprint: "1" }),
        settlement(plan, oldB!, "FAILED", { attempts: 1, retryInMs: 60_000, errorMessage: "late" }),
      ]);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ PROCESSING: 2, COMPLETED: 0, FAILED: 0 });
      expect(await collect(ledger.plans.fingerprintKeys("j", "p"))).toEqual([]);
      expect(await ledger.plans.leaseOwners(plan.id)).toEqual(["new"]);

      await other.plans.settle([
        settlement(plan, newA!, "COMPLETED", { fingerprint: "1" }),
        settlement(plan, newB!, "SKIPPED"),
      ]);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ PROCESSING: 0, COMPLETED: 1, SKIPPED: 1 });
      // a settlement repeated after it landed changes nothing either
      await ledger.plans.settle([settlement(plan, newA!, "FAILED", { attempts: 1 })]);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ COMPLETED: 1, FAILED: 0 });
    });

    it("a claim carrying settlements writes them first: the batch done and the next batch in one call", async () => {
      const { ledger } = h();
      const other = await h().second();
      const plan = await openPlan(ledger, ["a", "b", "c", "d"]);
      const [a, b] = await ledger.plans.claim(plan.id, "w", 60_000, 2);
      // another runner holds c
      const [stolen] = await other.plans.claim(plan.id, "x", 60_000, 1);
      expect(stolen).toMatchObject({ key: "c" });
      const next = await ledger.plans.claim(plan.id, "w", 60_000, 10, [
        settlement(plan, a!, "COMPLETED", { fingerprint: "1" }),
        settlement(plan, b!, "FAILED", { attempts: 1, retryInMs: 60_000, errorMessage: "e" }),
      ]);
      expect(next.map((i) => i.key)).toEqual(["d"]);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ COMPLETED: 1, FAILED: 1, PROCESSING: 2 });
      expect(await collect(ledger.plans.fingerprintKeys("j", "p"))).toEqual(["a"]);
      // a stale fence in the carried batch is ignored like in settle()
      const again = await ledger.plans.claim(plan.id, "w", 60_000, 10, [
        settlement(plan, { ...stolen!, fence: stolen!.fence - 1 }, "COMPLETED", { fingerprint: "1" }),
      ]);
      expect(again).toEqual([]);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ COMPLETED: 1, PROCESSING: 2 });
    });
  });
}
