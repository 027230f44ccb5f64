import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import type { PlanRecord } from "../src/ledger/types.js";

const ref = { job: "j", phase: "p", scope: "" };

describe("ledger leases and fencing", () => {
  let dir: string;
  let ledger: SqliteLedger;
  let plan: PlanRecord;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "syncwarden-ledger-"));
    ledger = new SqliteLedger(path.join(dir, "state.db"));
    plan = await ledger.createPlan(ref, null, "T1", "snapshot");
    await ledger.recordItems(plan.id, [
      { key: "a", version: "1", op: "upsert" },
      { key: "b", version: "1", op: "upsert" },
    ]);
    await ledger.sealPlan(plan);
  });
  afterEach(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("an expired lease returns to pending and the stale holder's settlement is fenced out", async () => {
    const t0 = 1_000_000;
    const [a] = await ledger.claimItems(plan.id, "host:1:old", t0 + 1000, 1, t0);
    expect(a).toMatchObject({ key: "a", fence: 1 });
    // still leased: nobody else may take it
    expect(await ledger.requeueAbandoned(plan.id, t0 + 500, () => false)).toBe(0);
    // the lease expires; the item is pending again and a new runner claims it with a new fence
    expect(await ledger.requeueAbandoned(plan.id, t0 + 2000, () => false)).toBe(1);
    const [again] = await ledger.claimItems(plan.id, "host:2:new", t0 + 5000, 1, t0 + 2000);
    expect(again).toMatchObject({ key: "a", fence: 2 });

    // the old holder wakes up and settles with its stale fence: nothing changes
    await ledger.settleItems(
      [{ id: a!.id, fence: a!.fence, job: "j", phase: "p", key: "a", status: "COMPLETED", fingerprint: "1" }],
      t0 + 2500,
    );
    expect((await ledger.countItems(plan.id)).PROCESSING).toBe(1);
    await ledger.settleItems(
      [
        {
          id: again!.id,
          fence: again!.fence,
          job: "j",
          phase: "p",
          key: "a",
          status: "COMPLETED",
          fingerprint: "1",
        },
      ],
      t0 + 2600,
    );
    const counts = await ledger.countItems(plan.id);
    expect(counts).toMatchObject({ COMPLETED: 1, PENDING: 1, PROCESSING: 0 });
  });

  it("a dead holder's items are requeued at once; the checkpoint moves only when all are done", async () => {
    const now = Date.now();
    await ledger.claimItems(plan.id, "host:999999:dead", now + 60_000, 2, now);
    expect(await ledger.closePlan(plan, now)).toBe(false);
    expect(await ledger.getCheckpoint(ref)).toBeUndefined();
    expect(await ledger.requeueAbandoned(plan.id, now, (owner) => owner.endsWith(":dead"))).toBe(2);
    const items = await ledger.claimItems(plan.id, "host:1:live", now + 60_000, 10, now);
    expect(items.map((i) => i.key)).toEqual(["a", "b"]);
    await ledger.settleItems(
      items.map((i) => ({
        id: i.id,
        fence: i.fence,
        job: "j",
        phase: "p",
        key: i.key,
        status: "COMPLETED" as const,
        fingerprint: "1",
      })),
      now,
    );
    expect(await ledger.closePlan(plan, now)).toBe(true);
    expect((await ledger.getCheckpoint(ref))?.value).toBe("T1");
  });

  it("a snapshot plan deletes fingerprinted keys it no longer lists", async () => {
    const now = Date.now();
    const items = await ledger.claimItems(plan.id, "o:1:x", now + 60_000, 10, now);
    await ledger.settleItems(
      items.map((i) => ({
        id: i.id,
        fence: i.fence,
        job: "j",
        phase: "p",
        key: i.key,
        status: "COMPLETED" as const,
        fingerprint: "1",
      })),
      now,
    );
    await ledger.closePlan(plan, now);
    const next = await ledger.createPlan(ref, null, "T2", "snapshot");
    await ledger.recordItems(next.id, [{ key: "a", version: "1", op: "upsert" }]);
    await ledger.sealPlan(next);
    const claimed = await ledger.claimItems(next.id, "o:1:y", now + 60_000, 10, now);
    expect(claimed.map((i) => [i.key, i.op, i.prevVersion])).toEqual([
      ["a", "upsert", "1"],
      ["b", "delete", "1"],
    ]);
  });
});
