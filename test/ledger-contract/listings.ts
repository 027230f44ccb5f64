import { describe, expect, it } from "vitest";
import type { ClaimedItem } from "../../src/ledger/types.js";
import { collect, complete, openPlan, phaseRef, settlement, sleep } from "./fixtures.js";
import type { Harness } from "./harness.js";

export function listingsContract(h: Harness): void {
  describe("items: redrive, counts and listings", () => {
    it("requeue redrives FAILED and DEAD items of a job with a fresh attempt budget", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["f", "d", "ok"]);
      const other = await openPlan(ledger, ["f"], { ref: phaseRef("j2") });
      const [f, d, ok] = await ledger.plans.claim(plan.id, "w", 60_000, 3);
      const [f2] = await ledger.plans.claim(other.id, "w", 60_000, 1);
      await ledger.plans.settle([
        settlement(plan, f!, "FAILED", {
          attempts: 2,
          retryInMs: 60_000,
          errorClass: "transient",
          errorMessage: "503",
        }),
        settlement(plan, d!, "DEAD", {
          attempts: 3,
          errorClass: "permanent",
          errorMessage: "404",
          reason: "gone",
        }),
        settlement(plan, ok!, "COMPLETED", { fingerprint: "1" }),
        settlement(other, f2!, "FAILED", { attempts: 1, retryInMs: 60_000 }),
      ]);
      const failed = await collect(ledger.plans.listItems({ job: "j", statuses: ["FAILED", "DEAD"] }));
      expect(failed.map((r) => [r.key, r.status, r.attempts, r.errorClass, r.errorMessage])).toEqual([
        ["f", "FAILED", 2, "transient", "503"],
        ["d", "DEAD", 3, "permanent", "404"],
      ]);
      expect(failed[0]!.nextAttemptAt).toBeGreaterThan(failed[0]!.updatedAt);

      expect(await ledger.plans.requeue({ job: "j", statuses: ["FAILED", "DEAD"] })).toBe(2);
      const claimed = await ledger.plans.claim(plan.id, "w", 60_000, 10);
      expect(claimed.map((i) => [i.key, i.attempts])).toEqual([
        ["f", 0],
        ["d", 0],
      ]);
      expect(await ledger.plans.count(other.id)).toMatchObject({ FAILED: 1 });
      expect(await ledger.plans.requeue({ statuses: ["FAILED"] })).toBe(1);
      expect(await ledger.plans.count(other.id)).toMatchObject({ FAILED: 0, PENDING: 1 });
    });

    it("requeue and listItems with ids take only those items (a redrive a person picked)", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a", "b", "c"]);
      const [a, b, c] = await ledger.plans.claim(plan.id, "w", 60_000, 3);
      await ledger.plans.settle(
        [a!, b!, c!].map((i) => settlement(plan, i, "DEAD", { attempts: 1, errorClass: "transient" })),
      );
      const picked = { job: "j", statuses: ["FAILED", "DEAD"] as const, ids: [a!.id, c!.id] };
      expect((await collect(ledger.plans.listItems(picked))).map((r) => r.key)).toEqual(["a", "c"]);
      expect(await collect(ledger.plans.listItems({ ...picked, ids: [] }))).toEqual([]);
      const after = { job: "j", statuses: ["DEAD"] as const, afterId: a!.id };
      expect((await collect(ledger.plans.listItems(after))).map((r) => r.key)).toEqual(["b", "c"]);
      expect(await ledger.plans.requeue(picked)).toBe(2);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ PENDING: 2, DEAD: 1 });
      // an id of another status is left alone, and an empty list requeues nothing
      expect(await ledger.plans.requeue({ statuses: ["DEAD"], ids: [a!.id] })).toBe(0);
      expect(await ledger.plans.requeue({ statuses: ["DEAD"], ids: [] })).toBe(0);
      const claimed = await ledger.plans.claim(plan.id, "w", 60_000, 10);
      expect(claimed.map((i) => [i.key, i.attempts])).toEqual([
        ["a", 0],
        ["c", 0],
      ]);
    });

    it("14.10 requeue and listItems with olderThanMs take only items parked at least that long (the ledger's clock)", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["old", "new"]);
      const [old, young] = await ledger.plans.claim(plan.id, "w", 60_000, 2);
      await ledger.plans.settle([settlement(plan, old!, "DEAD", { attempts: 3, errorClass: "permanent" })]);
      await sleep(400);
      await ledger.plans.settle([settlement(plan, young!, "DEAD", { attempts: 3, errorClass: "permanent" })]);
      const dead = { job: "j", statuses: ["DEAD"] as const, olderThanMs: 250 };
      expect((await collect(ledger.plans.listItems(dead))).map((r) => r.key)).toEqual(["old"]);
      expect(await ledger.plans.requeue(dead)).toBe(1);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ PENDING: 1, DEAD: 1 });
      const [again] = await ledger.plans.claim(plan.id, "w", 60_000, 10);
      expect([again!.key, again!.attempts]).toEqual(["old", 0]);
      // the young one is parked too briefly, until it is not
      expect(await ledger.plans.requeue(dead)).toBe(0);
      await sleep(400);
      expect(await ledger.plans.requeue(dead)).toBe(1);
    });

    it("counts per status, per reason and per job", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a", "b", "c", "d"]);
      const other = await openPlan(ledger, ["x", "y"], { ref: phaseRef("j2") });
      const [a, b, c] = await ledger.plans.claim(plan.id, "w", 60_000, 3);
      const [x] = await ledger.plans.claim(other.id, "w", 60_000, 1);
      await ledger.plans.settle([
        settlement(plan, a!, "SKIPPED", { reason: "unchanged" }),
        settlement(plan, b!, "SKIPPED", { reason: "unchanged" }),
        settlement(plan, c!, "DEAD", { attempts: 1, reason: "too large" }),
        settlement(other, x!, "DEAD", { attempts: 1 }),
      ]);
      expect(await ledger.plans.count(plan.id)).toEqual({
        PENDING: 1,
        PROCESSING: 0,
        COMPLETED: 0,
        SKIPPED: 2,
        FAILED: 0,
        DEAD: 1,
      });
      expect(await ledger.plans.countReasons(plan.id, "SKIPPED")).toEqual({ unchanged: 2 });
      expect(await ledger.plans.countByJob("DEAD")).toEqual({ j: 1, j2: 1 });
      expect(await ledger.plans.countByJob("PENDING")).toEqual({ j: 1, j2: 1 });
      expect(await ledger.plans.countByJob("FAILED")).toEqual({});
    });

    it("listItems streams more than a page, in id order, of the given statuses and job", async () => {
      const { ledger } = h();
      const keys = Array.from({ length: 1234 }, (_, i) => `k${i}`);
      const plan = await openPlan(ledger, keys);
      await openPlan(ledger, ["x", "y"], { ref: phaseRef("j2") });
      const claimed: ClaimedItem[] = await ledger.plans.claim(plan.id, "w", 60_000, 34);
      await complete(ledger, plan, claimed);

      const pending = await collect(ledger.plans.listItems({ job: "j", statuses: ["PENDING"] }));
      expect(pending).toHaveLength(1200);
      for (let i = 1; i < pending.length; i++) expect(pending[i]!.id).toBeGreaterThan(pending[i - 1]!.id);
      expect(pending[0]).toMatchObject({
        planId: plan.id,
        job: "j",
        phase: "p",
        key: "k34",
        status: "PENDING",
      });
      expect(new Set(pending.map((r) => r.key)).size).toBe(1200);

      const all = await collect(ledger.plans.listItems({ statuses: ["PENDING", "COMPLETED"] }));
      expect(all).toHaveLength(1236);
      expect(all.slice(0, 34).every((r) => r.status === "COMPLETED")).toBe(true);
      expect(await collect(ledger.plans.listItems({ job: "j2", statuses: ["COMPLETED"] }))).toEqual([]);
    });
  });
}
