import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { SqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { startEarlyScan } from "../src/replicas/early-scan.js";
import { TMP_PREFIX } from "../src/replicas/fs-atomic.js";
import { replicate } from "../src/replicas/replicate.js";
import { resolveTargets, type ResolvedTarget } from "../src/replicas/targets.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

// The CLI walks the first target before its lock is held (while the ledger loads). Such a walk may be
// stale by the time the lock is held; these tests make it stale on purpose.

let ws: ReplicaWorkspace | undefined;
let ledger: SqliteLedger | undefined;
afterEach(async () => {
  await ledger?.close();
  ledger = undefined;
  ws?.cleanup();
  ws = undefined;
});

function open(w: ReplicaWorkspace): {
  target: ResolvedTarget;
  run: (
    early?: ReturnType<typeof startEarlyScan>,
  ) => Promise<{ copied: number; deleted: number; status: string }>;
} {
  const loaded = loadConfig(w.configFile);
  ledger = new SqliteLedger(path.join(loaded.stateDir, "state.db"));
  const [target] = resolveTargets(loaded);
  const l = ledger;
  return {
    target: target!,
    run: async (early) => {
      const [r] = await replicate(
        l,
        "test-owner",
        [target!],
        { dryRun: false, force: false },
        () => undefined,
        early ? new Map([[target!, early]]) : undefined,
      );
      return r!;
    },
  };
}

describe("a walk started before the lock", () => {
  it("is used when the manifest is unchanged once the lock is held (a change made after it waits for the next run)", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a1");
    const { target, run } = open(ws);
    expect((await run()).copied).toBe(1);
    const early = startEarlyScan(target);
    await early.scans;
    ws.put(ws.local, "b.txt", "b1"); // after the walk
    expect(await run(early)).toMatchObject({ status: "ok", copied: 0 });
    expect(await run()).toMatchObject({ status: "ok", copied: 1 });
    expect(ws.tree(ws.remote)).toEqual({ "a.txt": "a1", "b.txt": "b1" });
  });

  it("is walked again when another run finished in between: a file that run carried is not taken for a deletion", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a1");
    const { target, run } = open(ws);
    await run();
    ws.put(ws.local, "new.txt", "only local so far");
    const early = startEarlyScan(target);
    await early.scans; // sees new.txt on the local side only
    expect((await run()).copied).toBe(1); // another run carries it and rewrites the manifest
    // with the early walk, new.txt would look deleted on the remote side and be deleted locally
    expect(await run(early)).toMatchObject({ status: "ok", copied: 0, deleted: 0 });
    expect(ws.tree(ws.local)).toEqual({ "a.txt": "a1", "new.txt": "only local so far" });
    expect(ws.tree(ws.remote)).toEqual(ws.tree(ws.local));
  });

  it("is walked again when it met another run's temp file, which the run then removes", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a1");
    const { target, run } = open(ws);
    await run();
    const temp = path.join(ws.remote, `${TMP_PREFIX}x-0-a.txt`);
    writeFileSync(temp, "half a copy");
    const early = startEarlyScan(target);
    await early.scans;
    expect(existsSync(temp)).toBe(true); // an early walk never removes temp files
    ws.put(ws.local, "b.txt", "b1");
    expect(await run(early)).toMatchObject({ status: "ok", copied: 1 }); // walked again: b.txt seen
    expect(existsSync(temp)).toBe(false);
  });
});
