import { hostname } from "node:os";
import type Database from "better-sqlite3";
import { isOwnerGone, pidAlive } from "../engine/owner.js";
import { check, type CheckResult } from "./types.js";

interface LockRow {
  job: string;
  owner: string;
  pid: number;
  host: string;
  expires_at: number;
}

export interface StaleLock {
  job: string;
  owner: string;
  pid: number;
  host: string;
  why: "holder-dead" | "expired";
}

/** Job locks whose holder died on this host, or whose lease expired (holders on other hosts). */
export function staleLocks(db: Database.Database, now: number): StaleLock[] {
  const rows = db.prepare<[], LockRow>("SELECT job, owner, pid, host, expires_at FROM job_locks").all();
  const out: StaleLock[] = [];
  for (const r of rows) {
    const dead = isOwnerGone(r.owner) || (r.host === hostname() && r.pid !== process.pid && !pidAlive(r.pid));
    if (dead || r.expires_at < now)
      out.push({
        job: r.job,
        owner: r.owner,
        pid: r.pid,
        host: r.host,
        why: dead ? "holder-dead" : "expired",
      });
  }
  return out;
}

export function checkLocks(db: Database.Database, now: number): CheckResult {
  const total = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM job_locks").get()!.n;
  const stale = staleLocks(db, now);
  if (stale.length === 0)
    return check("job-locks", "ok", `${total} job locks held, none stale`, { held: total });
  const list = stale.map(
    (s) => `${s.job} (pid ${s.pid} on ${s.host}, ${s.why === "expired" ? "expired" : "holder gone"})`,
  );
  return check("job-locks", "warning", `${stale.length} stale job locks: ${list.join(", ")}`, {
    held: total,
    stale,
  });
}

/** Deletes the stale locks (each only if it is still the same holder's). */
export function reclaimLocks(db: Database.Database, now: number): StaleLock[] {
  const del = db.prepare("DELETE FROM job_locks WHERE job = ? AND owner = ?");
  return db
    .transaction(() => staleLocks(db, now).filter((s) => del.run(s.job, s.owner).changes === 1))
    .immediate();
}
