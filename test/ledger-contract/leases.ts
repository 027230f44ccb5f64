import { describe, expect, it } from "vitest";
import { openPlan, phaseRef, sleep } from "./fixtures.js";
import type { Harness } from "./harness.js";

export function leasesContract(h: Harness): void {
  describe("items: leases", () => {
    it("release returns only the owner's leased items to PENDING", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a", "b", "c"]);
      await ledger.plans.claim(plan.id, "gone", 60_000, 2);
      await ledger.plans.claim(plan.id, "alive", 60_000, 1);
      expect((await ledger.plans.leaseOwners(plan.id)).sort()).toEqual(["alive", "gone"]);
      expect(await ledger.plans.release(plan.id, "gone")).toBe(2);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ PENDING: 2, PROCESSING: 1 });
      expect(await ledger.plans.leaseOwners(plan.id)).toEqual(["alive"]);
      const again = await ledger.plans.claim(plan.id, "next", 60_000, 10);
      expect(again.map((i) => i.key)).toEqual(["a", "b"]);
    });

    it("requeueExpired returns only expired leases to PENDING, as the ledger's clock judges them", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a", "b", "c"]);
      const elsewhere = await openPlan(ledger, ["x"], { ref: phaseRef("j2") });
      await ledger.plans.claim(plan.id, "short", 50, 2);
      await ledger.plans.claim(plan.id, "long", 60_000, 1);
      await ledger.plans.claim(elsewhere.id, "short", 50, 1);
      expect(await ledger.plans.requeueExpired(plan.id)).toBe(0);
      expect(await ledger.plans.expiredLeases()).toEqual([]);
      await sleep(120);
      expect(await ledger.plans.expiredLeases()).toEqual([
        { job: "j", phase: "p", n: 2 },
        { job: "j2", phase: "p", n: 1 },
      ]);
      expect(await ledger.plans.requeueExpired(plan.id)).toBe(2);
      expect(await ledger.plans.count(plan.id)).toMatchObject({ PENDING: 2, PROCESSING: 1 });
      expect(await ledger.plans.count(elsewhere.id)).toMatchObject({ PROCESSING: 1 });
      expect(await ledger.plans.requeueExpired()).toBe(1);
      expect(await ledger.plans.count(elsewhere.id)).toMatchObject({ PENDING: 1, PROCESSING: 0 });
      expect(await ledger.plans.expiredLeases()).toEqual([]);
    });

    it("heartbeat keeps an owner's leases from expiring; they expire once it stops", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a", "b", "c"]);
      await ledger.plans.claim(plan.id, "beating", 100, 2);
      await ledger.plans.claim(plan.id, "silent", 100, 1);
      for (let i = 0; i < 6; i++) {
        await sleep(40);
        await ledger.plans.heartbeat(plan.id, "beating", 100);
      }
      // 240 ms after the claim: only the silent owner's lease has expired
      expect(await ledger.plans.requeueExpired(plan.id)).toBe(1);
      expect(await ledger.plans.leaseOwners(plan.id)).toEqual(["beating"]);
      await sleep(160);
      expect(await ledger.plans.requeueExpired(plan.id)).toBe(2);
      expect(await ledger.plans.leaseOwners(plan.id)).toEqual([]);
    });
  });
}
