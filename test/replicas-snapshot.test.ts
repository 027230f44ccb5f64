import { existsSync, mkdirSync, readdirSync, statSync, utimesSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SNAPSHOT_DIR, SNAPSHOT_MAX_AGE_MS, stateSnapshotPath } from "../src/replicas/state-snapshot.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

let ws: ReplicaWorkspace;
afterEach(() => ws.cleanup());

const stateDir = (): string => path.join(ws.dir, ".syncwarden");

function files(n: number, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`src/${prefix}-${i}.txt`] = `${prefix} file ${i} says hello\n`;
  return out;
}

/** A snapshot's quick_check verdict and how many documents of job `code` it holds. */
function inspect(file: string): { check: unknown; documents: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM documents WHERE job = 'code'").get();
    return { check: db.pragma("quick_check", { simple: true }), documents: row?.n ?? 0 };
  } finally {
    db.close();
  }
}

/** Sets a file's (or folder's) mtime back by `ms`. */
function age(file: string, ms: number): void {
  const t = (Date.now() - ms) / 1000;
  utimesSync(file, t, t);
}

describe("replicate: state snapshots on the targets of the state folder", () => {
  it("writes a verified snapshot holding the ledger's rows, at most once an hour, never reconciled", async () => {
    ws = new ReplicaWorkspace([{}], null);
    ws.commit(files(40, "first"));
    expect((await ws.cli(["run"])).code).toBe(0);
    const snap = stateSnapshotPath(ws.remote);

    const first = await ws.replicate();
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.targets[0]).toMatchObject({ status: "ok", snapshot: snap, errors: [] });
    expect(inspect(snap)).toEqual({ check: "ok", documents: 40 });
    expect(readdirSync(path.dirname(snap)).filter((f) => f.startsWith(".syncwarden-tmp-"))).toEqual([]);

    // within the hour: not rewritten, even though the ledger changed
    const mtime = statSync(snap).mtimeMs;
    ws.commit(files(10, "later"));
    expect((await ws.cli(["run"])).code).toBe(0);
    const second = await ws.replicate();
    expect(second.code).toBe(0);
    expect(second.json.targets[0]!.snapshot).toBeUndefined();
    expect(statSync(snap).mtimeMs).toBe(mtime);
    expect(inspect(snap).documents).toBe(40);

    // an hour old: rewritten on the next run, and the text output says so
    age(snap, SNAPSHOT_MAX_AGE_MS + 60_000);
    const text = await ws.cli(["replicate"]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`  state snapshot written: ${snap}\n`);
    expect(statSync(snap).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    expect(inspect(snap)).toEqual({ check: "ok", documents: 50 });

    // the snapshot folder (this machine's and another's) is never carried back nor reported
    ws.put(path.dirname(snap), "state-other-host.db", "another machine's snapshot");
    ws.put(stateDir(), "notes.md", "n");
    expect((await ws.replicate()).code).toBe(0);
    expect(existsSync(path.join(stateDir(), SNAPSHOT_DIR))).toBe(false);
    expect(ws.tree(ws.remote)).toMatchObject({ "notes.md": "n" });
    const verify = await ws.cli(["replicas", "verify", "--json"]);
    expect(verify.code, verify.stdout).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({
      targets: [{ match: true, onlyLocal: [], onlyRemote: [], differ: [] }],
    });
  });

  it("writes none for a replica with its own folder", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a");
    const r = await ws.replicate();
    expect(r.json.targets[0]).toMatchObject({ status: "ok", copied: 1 });
    expect(r.json.targets[0]!.snapshot).toBeUndefined();
    expect(existsSync(path.join(ws.remote, SNAPSHOT_DIR))).toBe(false);
  });

  it("writes none on a dry run", async () => {
    ws = new ReplicaWorkspace([{}], null);
    const dry = await ws.replicate("--dry-run");
    expect(dry.json.targets[0]).toMatchObject({ status: "dry-run" });
    expect(existsSync(path.join(ws.remote, SNAPSHOT_DIR))).toBe(false);
  });

  it("a snapshot that cannot be written is an error in the report; the files still sync", async () => {
    ws = new ReplicaWorkspace([{}], null);
    // a folder where the snapshot file should be, old enough to be replaced
    const snap = stateSnapshotPath(ws.remote);
    mkdirSync(snap, { recursive: true });
    age(snap, 2 * SNAPSHOT_MAX_AGE_MS);
    ws.put(stateDir(), "notes.md", "still carried");
    const r = await ws.replicate();
    expect(r.code).toBe(3);
    const t = r.json.targets[0]!;
    expect(t).toMatchObject({ status: "ok", copied: 1 });
    expect(t.snapshot).toBeUndefined();
    expect(t.errors).toEqual([{ path: snap, message: expect.any(String) as string }]);
    expect(ws.tree(ws.remote)).toEqual({ "notes.md": "still carried" });
    expect(readdirSync(path.dirname(snap))).toEqual([path.basename(snap)]);
  });

  it("doctor --repair restores a damaged state.db from the snapshot replicate wrote", async () => {
    ws = new ReplicaWorkspace([{}], null);
    ws.commit(files(40, "first"));
    expect((await ws.cli(["run"])).code).toBe(0);
    expect((await ws.replicate()).code).toBe(0);
    const snap = stateSnapshotPath(ws.remote);
    // later work, not in the snapshot (written within the hour), then the damage
    ws.commit(files(10, "later"));
    expect((await ws.cli(["run"])).code).toBe(0);
    expect((await ws.replicate()).json.targets[0]!.snapshot).toBeUndefined();
    expect(existsSync(path.join(stateDir(), "backups"))).toBe(false);
    ws.corruptDatabase();

    const r = await ws.cli(["doctor", "--json", "--repair"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { repairs: { name: string; ok: boolean; details: object }[] };
    expect(report.repairs.find((x) => x.name === "restore-database")).toMatchObject({
      ok: true,
      details: { from: snap, rejected: [] },
    });
    expect(ws.documents("code").size).toBe(40);
    const status = await ws.cli(["status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ jobs: [{ job: "code", documents: 40 }] });
    expect(existsSync(snap)).toBe(true);
  });
});
