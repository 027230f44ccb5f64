import { describe, expect, it } from "vitest";
import type { InterruptedRunFacts } from "../../src/ledger/types.js";
import { complete, openPlan, phaseRef, settlement, sleep } from "./fixtures.js";
import type { ContractOptions, Harness } from "./harness.js";

export function runsContract(h: Harness, o: ContractOptions): void {
  describe("runs", () => {
    it("a started run is listed unfinished, a finished one with its status and result", async () => {
      const { ledger } = h();
      await ledger.runs.start({ id: "r1", job: "j", trigger: "cli", owner: "host:1" });
      const [started] = await ledger.runs.list("j", 10);
      expect(started).toMatchObject({ id: "r1", job: "j", trigger: "cli", owner: "host:1", status: null });
      expect(started!.finishedAt).toBeNull();

      await ledger.runs.finish("r1", "completed", { items: 3, phases: ["files"] });
      const [finished] = await ledger.runs.list("j", 10);
      expect(finished).toMatchObject({ status: "completed", result: { items: 3, phases: ["files"] } });
      expect(finished!.finishedAt).toBeGreaterThanOrEqual(finished!.startedAt);
    });

    it("14.2 unfinished lists runs with no finish time, of one job or all, oldest first", async () => {
      const { ledger } = h();
      await ledger.runs.start({ id: "r1", job: "a", trigger: "cli", owner: "o1" });
      await sleep(5);
      await ledger.runs.start({ id: "r2", job: "b", trigger: "cli", owner: "o2" });
      await sleep(5);
      await ledger.runs.start({ id: "r3", job: "a", trigger: "cli", owner: "o3" });
      await ledger.runs.finish("r3", "completed", {});
      expect((await ledger.runs.unfinished()).map((r) => r.id)).toEqual(["r1", "r2"]);
      expect((await ledger.runs.unfinished("a")).map((r) => r.id)).toEqual(["r1"]);
    });

    it("14.2 interrupt closes an unfinished run as interrupted, stamped by the ledger's clock, with its plans' item counts", async () => {
      const { ledger } = h();
      const closed = await openPlan(ledger, ["x"], { ref: phaseRef("j", "early") });
      const [x] = await ledger.plans.claim(closed.id, "o", 60_000, 1);
      await complete(ledger, closed, [x!]);
      await ledger.plans.closePlan(closed);
      await sleep(20);
      await ledger.runs.start({ id: "r1", job: "j", trigger: "cli", owner: "host:1:n" });
      const plan = await openPlan(ledger, ["a", "b", "c", "d"], { ref: phaseRef("j", "files") });
      await openPlan(ledger, ["z"], { ref: phaseRef("other", "files") });
      const [a, b, c] = await ledger.plans.claim(plan.id, "host:1:n", 60_000, 3);
      await complete(ledger, plan, [a!]);
      await ledger.plans.settle([
        settlement(plan, b!, "DEAD", { attempts: 1, errorClass: "permanent" }),
        settlement(plan, c!, "COMPLETED", { fingerprint: "1", reason: "raw" }),
      ]);
      const before = Date.now();
      let seen: InterruptedRunFacts | undefined;
      const done = await ledger.runs.interrupt("r1", (facts) => {
        seen = facts;
        return { closedBy: "test" };
      });
      expect(done).toMatchObject({ id: "r1", status: "interrupted", result: { closedBy: "test" } });
      // only the plan open while it ran, of its own job
      expect(seen!.phases).toEqual([
        {
          phase: "files",
          counts: { PENDING: 1, PROCESSING: 0, COMPLETED: 2, SKIPPED: 0, FAILED: 0, DEAD: 1 },
          raw: 1,
        },
      ]);
      expect(seen!.run.finishedAt).toBeGreaterThanOrEqual(seen!.run.startedAt);
      expect(Math.abs(seen!.run.finishedAt - before)).toBeLessThan(o.clockToleranceMs + 2_000);
      expect(seen!.lastActivityAt).toBeGreaterThanOrEqual(seen!.run.startedAt);
      expect(seen!.lastActivityAt).toBeLessThanOrEqual(seen!.run.finishedAt);

      const [listed] = await ledger.runs.list("j", 1);
      expect(listed).toMatchObject({ status: "interrupted", result: { closedBy: "test" } });
      expect(listed!.finishedAt).toBe(seen!.run.finishedAt);
      expect(await ledger.runs.unfinished("j")).toEqual([]);
      // a second close (another process's doctor) changes nothing
      const other = await h().second();
      expect(await other.runs.interrupt("r1", () => ({ again: true }))).toBeUndefined();
      expect((await ledger.runs.list("j", 1))[0]!.result).toEqual({ closedBy: "test" });
    });

    it("14.2 interrupt leaves a finished run as it is", async () => {
      const { ledger } = h();
      await ledger.runs.start({ id: "r1", job: "j", trigger: "cli", owner: "o" });
      await ledger.runs.finish("r1", "completed", { ok: true });
      expect(await ledger.runs.interrupt("r1", () => ({ no: true }))).toBeUndefined();
      expect((await ledger.runs.list("j", 1))[0]).toMatchObject({
        status: "completed",
        result: { ok: true },
      });
    });

    it("lists newest first, of one job or of all, up to the limit", async () => {
      const { ledger } = h();
      for (const [id, job] of [
        ["r1", "a"],
        ["r2", "b"],
        ["r3", "a"],
      ] as const) {
        await ledger.runs.start({ id, job, trigger: "schedule", owner: "o" });
        await sleep(5);
      }
      expect((await ledger.runs.list(undefined, 10)).map((r) => r.id)).toEqual(["r3", "r2", "r1"]);
      expect((await ledger.runs.list("a", 10)).map((r) => r.id)).toEqual(["r3", "r1"]);
      expect((await ledger.runs.list(undefined, 2)).map((r) => r.id)).toEqual(["r3", "r2"]);
    });

    it("a failing call rejects its promise, never throws at the call (a closed handle here)", async () => {
      const { ledger } = h();
      const closed = await h().second();
      await closed.close();
      let thrown: unknown;
      let calls: Promise<unknown>[] = [];
      try {
        calls = [
          closed.runs.list("j", 1),
          closed.plans.count(1),
          closed.locks.list(),
          closed.events.list({ limit: 1 }),
          closed.meta.get("k"),
          closed.resilience.readBreaker("p"),
        ];
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeUndefined();
      for (const c of calls) await expect(c).rejects.toBeInstanceOf(Error);
      // the other handle is unaffected
      expect(await ledger.runs.list("j", 1)).toEqual([]);
    });

    it("another process sees the runs this one started", async () => {
      const { ledger } = h();
      const other = await h().second();
      await other.runs.start({ id: "r1", job: "j", trigger: "daemon", owner: "other" });
      expect((await ledger.runs.list("j", 10)).map((r) => r.owner)).toEqual(["other"]);
    });
  });
}
