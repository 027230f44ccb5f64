import { describe, expect, it } from "vitest";
import {
  collect,
  complete,
  completeAll,
  openPlan,
  phaseRef,
  settlement,
  sleep,
  upserts,
} from "./fixtures.js";
import type { ContractOptions, Harness } from "./harness.js";

export function plansContract(h: Harness, options: ContractOptions): void {
  describe("plans and checkpoints", () => {
    it("a plan is found while planning, then open once sealed, and is the latest of its phase", async () => {
      const { plans } = h().ledger;
      const ref = phaseRef();
      const plan = await plans.createPlan(ref, "T0", "T1", "delta");
      expect(plan).toMatchObject({
        ...ref,
        fromCheckpoint: "T0",
        target: "T1",
        mode: "delta",
        forced: false,
        state: "planning",
      });
      expect((await plans.findPlan(ref, "planning"))?.id).toBe(plan.id);
      expect(await plans.findPlan(ref, "open")).toBeUndefined();

      await plans.sealPlan(plan);
      expect(await plans.findPlan(ref, "planning")).toBeUndefined();
      expect(await plans.findPlan(ref, "open")).toMatchObject({ id: plan.id, state: "open", target: "T1" });
      expect(await plans.findPlan(phaseRef("j", "p", "other-scope"), "open")).toBeUndefined();
      const next = await plans.createPlan(ref, "T1", "T2", "delta");
      expect((await plans.latestPlan(ref))?.id).toBe(next.id);
    });

    it("a plan made by a forced run says so, to whoever reads it (a worker that joins it)", async () => {
      const { ledger } = h();
      const ref = phaseRef();
      const forced = await ledger.plans.createPlan(ref, null, "T1", "snapshot", true);
      await ledger.plans.sealPlan(forced);
      const other = await h().second();
      expect(await other.plans.findPlan(ref, "open")).toMatchObject({ id: forced.id, forced: true });
    });

    it("records a key listed twice once, also when a resumed planning lists it again", async () => {
      const { plans } = h().ledger;
      const plan = await plans.createPlan(phaseRef(), null, "T1", "snapshot");
      await plans.recordItems(plan, upserts(["a", "b", "a"]));
      await plans.recordItems(plan, upserts(["b", "c"]));
      await plans.sealPlan(plan);
      expect(await plans.count(plan.id)).toMatchObject({ PENDING: 3, PROCESSING: 0 });
      const claimed = await plans.claim(plan.id, "w", 60_000, 10);
      expect(claimed.map((i) => i.key).sort()).toEqual(["a", "b", "c"]);
    });

    it("a snapshot plan gets a deletion for every fingerprinted key it no longer lists", async () => {
      const { ledger } = h();
      const ref = phaseRef();
      const first = await openPlan(ledger, ["a", "b", "c"], { target: "T1" });
      await completeAll(ledger, first);
      expect(await ledger.plans.closePlan(first)).toBe(true);

      const second = await openPlan(ledger, [{ key: "a", version: "2", op: "upsert" }], { target: "T2" });
      const claimed = await ledger.plans.claim(second.id, "w", 60_000, 10);
      expect(claimed.map((i) => [i.key, i.op, i.version, i.prevVersion])).toEqual([
        ["a", "upsert", "2", "1"],
        ["b", "delete", null, "1"],
        ["c", "delete", null, "1"],
      ]);
      await complete(ledger, second, claimed);
      expect(await ledger.plans.closePlan(second)).toBe(true);
      expect(await collect(ledger.plans.fingerprintKeys(ref.job, ref.phase))).toEqual(["a"]);
      expect((await ledger.plans.checkpoint(ref))?.value).toBe("T2");
    });

    it("scoped and delta plans add no deletions", async () => {
      const { ledger } = h();
      const first = await openPlan(ledger, ["a", "b"]);
      await completeAll(ledger, first);
      await ledger.plans.closePlan(first);

      const scoped = await openPlan(ledger, ["a"], { ref: phaseRef("j", "p", "ids:a") });
      const delta = await openPlan(ledger, ["a"], { mode: "delta", target: "T2" });
      for (const plan of [scoped, delta]) {
        const claimed = await ledger.plans.claim(plan.id, "w", 60_000, 10);
        expect(claimed.map((i) => [i.key, i.op])).toEqual([["a", "upsert"]]);
      }
    });

    it("closePlan refuses while any item is not COMPLETED or SKIPPED, then moves the checkpoint to the target", async () => {
      const { ledger } = h();
      const { plans } = ledger;
      const ref = phaseRef();
      const plan = await openPlan(ledger, ["done", "skip", "x"], { target: "T9" });
      const [done, skip] = await plans.claim(plan.id, "w", 60_000, 2);
      await plans.settle([
        settlement(plan, done!, "COMPLETED", { fingerprint: "1" }),
        settlement(plan, skip!, "SKIPPED", { reason: "unchanged" }),
      ]);
      const refused = async (state: string): Promise<void> => {
        expect(await plans.closePlan(plan), `closePlan with one item ${state}`).toBe(false);
        expect(await plans.checkpoint(ref)).toBeUndefined();
      };
      // "x" alone holds the checkpoint back in each unfinished state
      await refused("PENDING");
      const [x1] = await plans.claim(plan.id, "w", 60_000, 1);
      await refused("PROCESSING");
      await plans.settle([settlement(plan, x1!, "FAILED", { attempts: 1, retryInMs: 60_000 })]);
      await refused("FAILED");
      await plans.requeue({ job: ref.job, statuses: ["FAILED"] });
      const [x2] = await plans.claim(plan.id, "w", 60_000, 1);
      await plans.settle([settlement(plan, x2!, "DEAD", { attempts: 3, errorClass: "permanent" })]);
      await refused("DEAD");
      await plans.requeue({ job: ref.job, statuses: ["DEAD"] });
      const [x3] = await plans.claim(plan.id, "w", 60_000, 1);
      await plans.settle([settlement(plan, x3!, "PENDING", { retryInMs: 100, reason: "breaker open" })]);
      await refused("deferred");
      expect((await plans.findPlan(ref, "open"))?.id).toBe(plan.id);

      await sleep(150);
      await completeAll(ledger, plan);
      expect(await plans.closePlan(plan)).toBe(true);
      expect(await plans.checkpoint(ref)).toMatchObject({ value: "T9" });
      expect(await plans.findPlan(ref, "open")).toBeUndefined();
      expect(await plans.latestPlan(ref)).toMatchObject({ id: plan.id, state: "closed" });
    });

    it("a plan with nothing to do moves the checkpoint at once", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, [], { mode: "delta", target: "T2" });
      expect(await ledger.plans.closePlan(plan)).toBe(true);
      expect((await ledger.plans.checkpoint(phaseRef()))?.value).toBe("T2");
    });

    it("closePlan with the lock's current fence moves the checkpoint; with a stale one throws LOCK_LOST and leaves it", async () => {
      const { ledger } = h();
      const other = await h().second();
      const ref = phaseRef();
      const holder = { pid: 1, host: "h" };
      const mine = await ledger.locks.acquire("j", { owner: "a", ...holder }, 60_000);
      if (!mine.acquired) throw new Error("the first acquisition must succeed");
      const first = await openPlan(ledger, ["x"], { target: "T1" });
      await completeAll(ledger, first);
      expect(await ledger.plans.closePlan(first, mine.lock.fence)).toBe(true);

      const second = await openPlan(ledger, ["x", "y"], { target: "T2" });
      await completeAll(ledger, second);
      // another runner takes the job over (the first one was thought gone)
      const theirs = await other.locks.acquire("j", { owner: "b", ...holder }, 60_000, "a");
      expect(theirs.acquired).toBe(true);
      await expect(ledger.plans.closePlan(second, mine.lock.fence)).rejects.toMatchObject({
        code: "LOCK_LOST",
      });
      expect((await other.plans.checkpoint(ref))?.value).toBe("T1");
      expect((await other.plans.findPlan(ref, "open"))?.id).toBe(second.id);
    });

    it("discardPlan removes the plan and its items", async () => {
      const { ledger } = h();
      const keep = await openPlan(ledger, ["k"], { ref: phaseRef("j", "other") });
      const plan = await openPlan(ledger, ["a", "b"]);
      await ledger.plans.discardPlan(plan.id);
      expect(await ledger.plans.latestPlan(phaseRef())).toBeUndefined();
      expect(await ledger.plans.count(plan.id)).toMatchObject({ PENDING: 0 });
      expect(await ledger.plans.count(keep.id)).toMatchObject({ PENDING: 1 });
    });

    it("fingerprintKeys streams every completed key of a job's phase (more than a page)", async () => {
      const { ledger } = h();
      const keys = Array.from({ length: 1100 }, (_, i) => `k${String(i).padStart(4, "0")}`);
      const plan = await openPlan(ledger, keys);
      await openPlan(ledger, ["elsewhere"], { ref: phaseRef("j", "other") });
      await completeAll(ledger, plan);
      const listed = await collect(ledger.plans.fingerprintKeys("j", "p"));
      expect(listed).toHaveLength(1100);
      expect([...listed].sort()).toEqual(keys);
    });

    it("forgetJob removes that job's plans, items, fingerprints, checkpoints, debts and documents, and nothing of another job", async () => {
      const { ledger } = h();
      for (const job of ["gone", "kept"]) {
        const ref = phaseRef(job);
        const plan = await openPlan(ledger, ["a", "b"], { ref });
        const items = await ledger.plans.claim(plan.id, "w", 60_000, 10);
        await ledger.plans.settle(
          items.map((i) =>
            settlement(plan, i, "COMPLETED", {
              fingerprint: "1",
              enriched: true,
              debts: [{ step: 0, provider: "emb", reason: "breaker open" }],
              ...(options.documents
                ? {
                    writes: [
                      {
                        kind: "upsert",
                        job,
                        collection: "c",
                        key: i.key,
                        version: "1",
                        content: `text ${i.key}`,
                      },
                    ],
                  }
                : {}),
            }),
          ),
        );
        await ledger.plans.closePlan(plan);
        await openPlan(ledger, ["next"], { ref, mode: "delta", target: "T2" });
      }
      await ledger.plans.forgetJob("gone");

      const gone = phaseRef("gone");
      expect(await ledger.plans.latestPlan(gone)).toBeUndefined();
      expect(await ledger.plans.checkpoint(gone)).toBeUndefined();
      expect(await collect(ledger.plans.fingerprintKeys("gone", "p"))).toEqual([]);
      expect(
        await collect(ledger.plans.listItems({ job: "gone", statuses: ["PENDING", "COMPLETED"] })),
      ).toEqual([]);
      expect(await ledger.resilience.countDebts("gone")).toBe(0);

      const kept = phaseRef("kept");
      expect((await ledger.plans.checkpoint(kept))?.value).toBe("T1");
      expect(await collect(ledger.plans.fingerprintKeys("kept", "p"))).toHaveLength(2);
      expect(
        await collect(ledger.plans.listItems({ job: "kept", statuses: ["PENDING", "COMPLETED"] })),
      ).toHaveLength(3);
      expect(await ledger.resilience.countDebts("kept")).toBe(2);
      if (options.documents) {
        expect(await ledger.documents?.count({ job: "gone" })).toBe(0);
        expect(await ledger.documents?.count({ job: "kept" })).toBe(2);
      }
    });
  });
}
