import {
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { newOwnerId } from "../src/engine/owner.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { acquireJobLock } from "../src/service/job-lock.js";
import { freeSpace } from "../src/replicas/guards.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

let ws: ReplicaWorkspace;
afterEach(() => ws.cleanup());

function files(n: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`f${String(i).padStart(2, "0")}.txt`] = `content ${i}`;
  return out;
}

async function synced(n: number): Promise<Record<string, string>> {
  const all = files(n);
  for (const [p, c] of Object.entries(all)) ws.put(ws.local, p, c, 1_700_000_000 + 3);
  const r = await ws.replicate();
  expect(r.code).toBe(0);
  expect(ws.tree(ws.remote)).toEqual(all);
  return all;
}

describe("replicate: safety guards", () => {
  it("refuses a target whose marker is missing (unmounted or wrong folder)", async () => {
    ws = new ReplicaWorkspace();
    const all = await synced(3);
    rmSync(path.join(ws.remote, ".syncwarden-replica"));
    ws.put(ws.local, "new.txt", "n");
    const r = await ws.replicate();
    expect(r.code).toBe(3);
    expect(r.json.targets[0]).toMatchObject({ status: "refused" });
    expect(r.json.targets[0]!.message).toContain("marker");
    expect(ws.tree(ws.remote)).toEqual(all);
  });

  it("refuses when one side is empty while the manifest says it held files", async () => {
    ws = new ReplicaWorkspace();
    const all = await synced(4);
    for (const p of Object.keys(all)) ws.del(ws.remote, p);
    const r = await ws.replicate();
    expect(r.code).toBe(3);
    expect(r.json.targets[0]!.message).toContain("empty");
    expect(ws.tree(ws.local)).toEqual(all);
  });

  it("aborts before deleting more than max_delete percent, unless --force", async () => {
    ws = new ReplicaWorkspace();
    const all = await synced(10);
    for (const p of Object.keys(all).slice(0, 6)) ws.del(ws.local, p);
    const r = await ws.replicate();
    expect(r.code).toBe(3);
    expect(r.json.targets[0]!.message).toContain("60% > max_delete 50%");
    expect(ws.tree(ws.remote)).toEqual(all);
    const forced = await ws.replicate("--force");
    expect(forced.code).toBe(0);
    expect(Object.keys(ws.tree(ws.remote))).toHaveLength(4);
    expect(Object.keys(ws.backups())).toHaveLength(6);
  });

  it("an exact one-hour shift of every mtime (FAT, DST) is not a change; another shift is refused", async () => {
    ws = new ReplicaWorkspace();
    const all = await synced(12);
    for (const p of Object.keys(all)) {
      const f = path.join(ws.remote, p);
      const t = statSync(f).mtimeMs / 1000 + 3600;
      utimesSync(f, t, t);
    }
    const r = await ws.replicate();
    expect(r.code).toBe(0);
    expect(r.json.targets[0]).toMatchObject({ copied: 0, deleted: 0, conflicts: [] });
    for (const p of Object.keys(all)) {
      const f = path.join(ws.local, p);
      const t = statSync(f).mtimeMs / 1000 + 420;
      utimesSync(f, t, t);
    }
    const shifted = await ws.replicate();
    expect(shifted.code).toBe(3);
    expect(shifted.json.targets[0]!.message).toContain("clock");
    expect(ws.tree(ws.local)).toEqual(all);
    expect(ws.tree(ws.remote)).toEqual(all);
  });

  it("reports case-fold and Unicode collisions instead of writing them", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "ok.txt", "ok");
    ws.put(ws.local, "Readme.md", "one");
    ws.put(ws.local, "README.md", "two");
    ws.put(ws.local, "caf\u00e9.txt", "nfc");
    ws.put(ws.local, "cafe\u0301.txt", "nfd");
    const r = await ws.replicate();
    expect(r.code).toBe(3);
    expect(r.json.targets[0]!.collisions).toHaveLength(2);
    expect(ws.tree(ws.remote)).toEqual({ "ok.txt": "ok" });
    expect(Object.keys(ws.tree(ws.local))).toHaveLength(5);
  });

  it("never follows a symlink out of the root", async () => {
    ws = new ReplicaWorkspace();
    const outside = path.join(ws.dir, "outside");
    mkdirSync(outside);
    writeFileSync(path.join(outside, "secret.txt"), "secret");
    ws.put(ws.local, "a.txt", "a");
    symlinkSync(outside, path.join(ws.local, "link-dir"));
    symlinkSync(path.join(outside, "secret.txt"), path.join(ws.local, "link-file"));
    const r = await ws.replicate();
    expect(r.code).toBe(0);
    expect(r.json.targets[0]!.symlinksOutside.sort()).toEqual(["link-dir", "link-file"]);
    expect(ws.tree(ws.remote)).toEqual({ "a.txt": "a" });
    expect(readdirSync(outside)).toEqual(["secret.txt"]);
  });

  it("an unreachable target opens its breaker after 3 failures while the others proceed", async () => {
    ws = new ReplicaWorkspace([{ name: "gone", path: "./unplugged" }, { name: "drive" }]);
    ws.put(ws.local, "a.txt", "a");
    for (let i = 0; i < 3; i++) {
      const r = await ws.replicate();
      expect(r.code).toBe(3);
      expect(r.json.targets[0]).toMatchObject({ target: "gone", status: "error" });
      expect(r.json.targets[1]).toMatchObject({ target: "drive", status: "ok" });
    }
    const r = await ws.replicate();
    expect(r.json.targets[0]).toMatchObject({ target: "gone", status: "skipped" });
    expect(r.json.targets[0]!.message).toContain("circuit open");
    expect(ws.tree(ws.remote)).toEqual({ "a.txt": "a" });
    expect(existsSync(path.join(ws.dir, "unplugged"))).toBe(false);
  });

  it("one run per (replica, target): a held replica lock makes replicate exit 75", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a");
    await ws.replicate();
    ws.put(ws.local, "b.txt", "b");
    const ledger = openSqliteLedger(ws.dbFile);
    const lock = await acquireJobLock(
      ledger.locks,
      "replica:notes:drive",
      newOwnerId(),
      false,
      () => undefined,
    );
    try {
      const r = await ws.replicate();
      expect(r.code).toBe(75);
      expect(r.json.targets[0]).toMatchObject({ status: "locked" });
      expect(ws.tree(ws.remote)).toEqual({ "a.txt": "a" });
    } finally {
      await lock.release();
      await ledger.close();
    }
    expect((await ws.replicate()).code).toBe(0);
    expect(ws.tree(ws.remote)).toEqual({ "a.txt": "a", "b.txt": "b" });
  });

  it("checks free space before copying", () => {
    ws = new ReplicaWorkspace();
    expect(freeSpace(ws.remote, 1024)).toBeUndefined();
    expect(freeSpace(ws.remote, 2 ** 62)).toMatch(/bytes free, \d+ needed; refusing/);
  });

  it("usage and configuration errors: exit 2 and 78", async () => {
    ws = new ReplicaWorkspace();
    expect((await ws.cli(["replicate", "--direction", "sideways"])).code).toBe(2);
    expect((await ws.cli(["replicate", "nope"])).code).toBe(2);
    ws.write(
      "syncwarden.yaml",
      "jobs: { j: { phases: [{ name: p, source: { type: git } }] } }\nreplicas: { r: { targets: [] } }\n",
    );
    const bad = await ws.cli(["replicate"]);
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/syncwarden\.yaml:2:\d+: replicas\.r\.targets/);
    // replicas and no jobs: `run` has nothing to run and says where replicas run
    ws.write(
      "syncwarden.yaml",
      "replicas: { r: { folder: ./local, targets: [{ name: d, path: ./remote }] } }\n",
    );
    const run = await ws.cli(["run"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`no jobs in ${ws.configFile}; replicas run with "syncwarden replicate"`);
  });
});
