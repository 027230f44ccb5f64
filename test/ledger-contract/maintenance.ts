import path from "node:path";
import { describe, expect, it } from "vitest";
import { collect, completeAll, openPlan } from "./fixtures.js";
import type { Harness } from "./harness.js";

export function maintenanceContract(h: Harness): void {
  describe("maintenance", () => {
    it("a working ledger exists, is sound and reports its size", async () => {
      const { ledger } = h();
      await openPlan(ledger, ["a", "b"]);
      const m = ledger.maintenance;
      expect(m.location).toBe(ledger.location);
      expect(m.exists()).toBe(true);
      expect(await m.integrity(false)).toEqual([]);
      expect(await m.integrity(true)).toEqual([]);
      const size = await m.size();
      expect(size.dbBytes + size.walBytes).toBeGreaterThan(0);
      expect(size.pageCount).toBeGreaterThan(0);
      expect(size.freePages).toBeGreaterThanOrEqual(0);
      expect(size.freeRatio).toBeGreaterThanOrEqual(0);
      expect(size.freeRatio).toBeLessThanOrEqual(1);
    });

    it("backup writes a copy that opens and holds the same rows", async () => {
      const { ledger, dir } = h();
      const plan = await openPlan(ledger, ["a", "b", "c"]);
      await completeAll(ledger, plan);
      await ledger.plans.closePlan(plan);
      await ledger.meta.set("last_success:j", "42");
      await ledger.events.append([
        { ts: 1, runId: null, job: "j", level: "info", type: "t", message: "hello" },
      ]);
      const dest = path.join(dir, "backup.db");
      await ledger.maintenance.backup(dest);
      // written after the backup: not in it
      await ledger.meta.set("after", "1");

      const copy = await h().openBackup(dest);
      expect(await copy.maintenance.integrity(true)).toEqual([]);
      expect(await copy.meta.get("last_success:j")).toBe("42");
      expect(await copy.meta.get("after")).toBeUndefined();
      expect((await copy.plans.checkpoint({ job: "j", phase: "p", scope: "" }))?.value).toBe("T1");
      expect((await collect(copy.plans.fingerprintKeys("j", "p"))).sort()).toEqual(["a", "b", "c"]);
      expect(await copy.plans.count(plan.id)).toMatchObject({ COMPLETED: 3 });
      expect((await copy.events.list({ limit: 10 })).map((e) => e.message)).toEqual(["hello"]);
    });

    it("compact says what it did and leaves a working ledger", async () => {
      const { ledger } = h();
      const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}-${"x".repeat(40)}`);
      await openPlan(ledger, keys, { ref: { job: "big", phase: "p", scope: "" } });
      await ledger.plans.forgetJob("big");
      const result = await ledger.maintenance.compact();
      expect(result.message.length).toBeGreaterThan(0);
      expect(typeof result.details.vacuumed).toBe("boolean");
      expect(result.details.before.pageCount).toBeGreaterThan(0);
      expect(result.details.pageCount).toBeLessThanOrEqual(result.details.before.pageCount);
      expect(await ledger.maintenance.integrity(false)).toEqual([]);
      await ledger.meta.set("still", "works");
      expect(await ledger.meta.get("still")).toBe("works");
    });
  });
}
