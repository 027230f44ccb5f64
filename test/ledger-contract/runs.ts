import { describe, expect, it } from "vitest";
import { sleep } from "./fixtures.js";
import type { Harness } from "./harness.js";

export function runsContract(h: Harness): void {
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
