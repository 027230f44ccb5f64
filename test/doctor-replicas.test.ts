import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { CheckResult, RepairResult } from "../src/health/types.js";
import { stateSnapshotPath } from "../src/replicas/state-snapshot.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

type Check = CheckResult;
type Repair = RepairResult;

let ws: ReplicaWorkspace;
afterEach(() => ws.cleanup());

async function doctor(
  ...args: string[]
): Promise<{ code: number | null; checks: Check[]; repairs: Repair[]; check: (n: string) => Check }> {
  const r = await ws.cli(["doctor", "--json", ...args]);
  expect(r.stderr).toBe("");
  const report = JSON.parse(r.stdout) as { checks: Check[]; repairs: Repair[] };
  const check = (n: string): Check => {
    const c = report.checks.find((x) => x.name === n);
    if (!c) throw new Error(`no check ${n} in ${r.stdout}`);
    return c;
  };
  return { code: r.code, ...report, check };
}

function files(n: number, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`src/${prefix}-${i}.txt`] = `${prefix} file ${i} says hello\n`;
  return out;
}

/** A verified copy of the state database (SQLite backup API) at `file`. */
async function snapshot(ws: ReplicaWorkspace, file: string): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(ws.dbFile);
  try {
    await db.backup(file);
  } finally {
    db.close();
  }
}

const movedAside = (): string[] =>
  readdirSync(path.dirname(ws.dbFile)).filter((f) => f.startsWith("state.db.corrupt-"));

describe("doctor: replica targets", () => {
  it("is critical when a synced target lost its marker, warns when the target folder or its breaker is gone", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a");
    // never synced: no marker yet, and that is fine
    const fresh = await doctor();
    expect(fresh.check("replicas").status).toBe("ok");

    expect((await ws.replicate()).code).toBe(0);
    const synced = await doctor();
    expect(synced.code).toBe(0);
    expect(synced.check("replicas")).toMatchObject({
      status: "ok",
      message: "1 replica targets reachable, breakers closed",
    });

    // a folder without the marker while a manifest says it was synced: the wrong folder, or a bare mount point
    const marker = path.join(ws.remote, ".syncwarden-replica");
    rmSync(marker);
    const wrong = await doctor();
    expect(wrong.code).toBe(2);
    expect(wrong.check("replicas").status).toBe("critical");
    expect(wrong.check("replicas").message).toContain("replica:notes:drive");
    expect(wrong.check("replicas").message).toContain("marker");
    const text = await ws.cli(["doctor"]);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/^CRITICAL replicas: replica:notes:drive: .*\.syncwarden-replica marker/m);

    // the target folder is gone (unplugged): a warning, and after 3 failed runs its open breaker too
    rmSync(ws.remote, { recursive: true });
    const unplugged = await doctor();
    expect(unplugged.code).toBe(1);
    expect(unplugged.check("replicas").status).toBe("warning");
    expect(unplugged.check("replicas").message).toMatch(/missing \(unreachable or unmounted\)/);
    for (let i = 0; i < 3; i++) expect((await ws.replicate()).code).toBe(3);
    const open = await doctor();
    expect(open.code).toBe(1);
    expect(open.check("replicas").message).toMatch(/breaker open until \d{4}-/);
    // reported once: by the replicas check, not again as a provider breaker
    expect(open.check("breakers").status).toBe("ok");
  });

  it("--repair restores a damaged state.db from this machine's snapshot on a replica target", async () => {
    ws = new ReplicaWorkspace([{}], null); // the state folder, replicated to remote/
    ws.commit(files(40, "first"));
    expect((await ws.cli(["run"])).code).toBe(0);
    expect((await ws.replicate()).code).toBe(0);
    const snap = stateSnapshotPath(ws.remote);
    await snapshot(ws, snap);
    // later work, not in the snapshot, then the damage
    ws.commit(files(10, "later"));
    expect((await ws.cli(["run"])).code).toBe(0);
    expect(ws.documents("code").size).toBe(50);
    expect(existsSync(path.join(ws.dir, ".syncwarden", "backups"))).toBe(false);
    ws.corruptDatabase();
    expect((await doctor()).check("database-integrity").status).toBe("critical");

    const fixed = await doctor("--repair");
    expect(fixed.code, JSON.stringify(fixed, null, 2)).toBe(0);
    const restore = fixed.repairs.find((r) => r.name === "restore-database")!;
    expect(restore).toMatchObject({ ok: true, details: { from: snap, rejected: [] } });
    expect(fixed.check("database-integrity").status).toBe("ok");
    expect(movedAside()).toContain(path.basename((restore.details.movedAside as string[])[0]!));
    // the snapshot's rows: the 40 documents it held, not the 50 of the damaged file
    expect(ws.documents("code").size).toBe(40);
    expect([...ws.documents("code").keys()].every((k) => k.startsWith("src/first-"))).toBe(true);
    const status = await ws.cli(["status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    // the snapshot on the target is left as it was
    expect(existsSync(snap)).toBe(true);
  });

  it("tries snapshots newest first across backups/ and replica targets, and skips one failing quick_check", async () => {
    ws = new ReplicaWorkspace([{}], null);
    ws.commit(files(40, "first"));
    expect((await ws.cli(["run"])).code).toBe(0);
    expect((await ws.replicate()).code).toBe(0);
    // a sound backup an hour old, and a newer snapshot on the target that is not a database
    const backup = path.join(
      ws.dir,
      ".syncwarden",
      "backups",
      new Date(Date.now() - 3_600_000).toISOString(),
      "state.db",
    );
    await snapshot(ws, backup);
    const snap = stateSnapshotPath(ws.remote);
    ws.put(path.dirname(snap), path.basename(snap), "this is not a database at all".repeat(200));
    ws.corruptDatabase();

    const fixed = await doctor("--repair");
    expect(fixed.code, JSON.stringify(fixed, null, 2)).toBe(0);
    const restore = fixed.repairs.find((r) => r.name === "restore-database")!;
    expect(restore.ok).toBe(true);
    expect(restore.details.from).toBe(backup);
    expect((restore.details.rejected as { file: string }[]).map((r) => r.file)).toEqual([snap]);
    expect(ws.documents("code").size).toBe(40);
    expect(movedAside().length).toBeGreaterThanOrEqual(1);
  });
});
