import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { SqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { earlyScanFor, prefetched, prefetchWalk, startEarlyScan } from "../src/replicas/early-scan.js";
import { TMP_PREFIX } from "../src/replicas/names.js";
import { replicate } from "../src/replicas/replicate.js";
import { resolveTargets, type ResolvedTarget } from "../src/replicas/targets.js";
import { runCli } from "./helpers/workspace.js";
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

describe("a walk started at the CLI's first line", () => {
  const argvOf = (w: ReplicaWorkspace, ...more: string[]): string[] => [
    "node",
    "syncwarden",
    "replicate",
    "-c",
    w.configFile,
    ...more,
  ];
  const envOf = (w: ReplicaWorkspace): NodeJS.ProcessEnv => ({
    SYNCWARDEN_CACHE_DIR: path.join(w.dir, "cache"),
  });

  it("is the walk remembered for the same command line and working folder, and only that", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a1");
    const { target, run } = open(ws);
    const [argv, env] = [argvOf(ws), envOf(ws)];
    prefetchWalk(argv, ws.dir, env);
    expect(prefetched()).toBeUndefined(); // nothing remembered yet
    expect((await run(earlyScanFor(target, argv, ws.dir, env))).copied).toBe(1); // remembers it
    prefetchWalk(argvOf(ws, "--dry-run"), ws.dir, env);
    expect(prefetched()).toBeUndefined(); // another command line
    prefetchWalk(argv, path.join(ws.dir, "elsewhere"), env);
    expect(prefetched()).toBeUndefined(); // another working folder
    prefetchWalk(argv, ws.dir, { SYNCWARDEN_CACHE_DIR: "off" });
    expect(prefetched()).toBeUndefined(); // no cache
    prefetchWalk(["node", "syncwarden", "status", "-c", ws.configFile], ws.dir, env);
    expect(prefetched()).toBeUndefined(); // not a replicate

    prefetchWalk(argv, ws.dir, env);
    const head = prefetched();
    expect(head).toBeDefined();
    await head!.scans;
    ws.put(ws.local, "b.txt", "b1"); // after the walk
    const early = earlyScanFor(target, argv, ws.dir, env);
    expect(early).toBe(head);
    expect(prefetched()).toBeUndefined(); // taken
    expect(await run(early)).toMatchObject({ status: "ok", copied: 0 }); // the walk predates b.txt
    expect(await run()).toMatchObject({ status: "ok", copied: 1 });
    expect(ws.tree(ws.remote)).toEqual({ "a.txt": "a1", "b.txt": "b1" });
  });

  it("is stopped, and the right one walked, when the same command line now means another target", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a1");
    const [argv, env] = [argvOf(ws), envOf(ws)];
    const first = open(ws);
    await first.run(earlyScanFor(first.target, argv, ws.dir, env));
    await ledger?.close();
    // the config now names another folder for the target
    const other = path.join(ws.dir, "remote2");
    mkdirSync(other);
    writeFileSync(ws.configFile, readFileSync(ws.configFile, "utf8").replace("./remote", "./remote2"));
    const second = open(ws);
    expect(second.target.remoteRoot).toBe(other);
    prefetchWalk(argv, ws.dir, env);
    const head = prefetched();
    expect(head).toBeDefined(); // the remembered plan still walks ./remote
    const early = earlyScanFor(second.target, argv, ws.dir, env);
    expect(early).not.toBe(head);
    const [, remote] = await early.scans;
    expect(remote.records.length).toBe(0); // remote2 is empty; the old walk's remote held a.txt
    const plans = readFileSync(path.join(env.SYNCWARDEN_CACHE_DIR!, "walk-plans.json"), "utf8");
    expect(plans).toContain(JSON.stringify(other));
  });

  it("through the CLI: runs with the same command line carry every change, and follow a changed config", async () => {
    ws = new ReplicaWorkspace();
    const env = { SYNCWARDEN_CACHE_DIR: path.join(ws.dir, "cache") };
    const cli = async () => {
      const r = await runCli(["replicate", "--json"], { cwd: ws!.dir, env });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { targets: { copied: number; deleted: number }[] }).targets[0]!;
    };
    ws.put(ws.local, "a.txt", "a1");
    expect(await cli()).toMatchObject({ copied: 1 });
    for (let i = 0; i < 3; i++) {
      ws.put(i % 2 === 0 ? ws.local : ws.remote, `n${i}.txt`, `new ${i}`);
      expect(await cli()).toMatchObject({ copied: 1, deleted: 0 });
    }
    ws.del(ws.remote, "a.txt");
    expect(await cli()).toMatchObject({ copied: 0, deleted: 1 });
    expect(await cli()).toMatchObject({ copied: 0, deleted: 0 });
    expect(ws.tree(ws.remote)).toEqual(ws.tree(ws.local));
    expect(Object.keys(ws.tree(ws.local)).sort()).toEqual(["n0.txt", "n1.txt", "n2.txt"]);
    // the same command line, another target (a new folder): the remembered walk is not used for it
    const other = path.join(ws.dir, "remote2");
    mkdirSync(other);
    writeFileSync(
      ws.configFile,
      readFileSync(ws.configFile, "utf8").replace(
        "name: drive, path: ./remote",
        "name: stick, path: ./remote2",
      ),
    );
    const before = ws.tree(ws.remote);
    expect(await cli()).toMatchObject({ copied: 3, deleted: 0 });
    expect(ws.tree(other)).toEqual(ws.tree(ws.local));
    expect(ws.tree(ws.remote)).toEqual(before);
  });
});
