import type Database from "better-sqlite3";
import type { JobLock, LockAttempt } from "../types.js";

interface LockRow {
  job: string;
  owner: string;
  pid: number;
  host: string;
  started_at: number;
  heartbeat_at: number;
  expires_at: number;
  fence: number;
}

const toLock = (r: LockRow): JobLock => ({
  job: r.job,
  owner: r.owner,
  pid: r.pid,
  host: r.host,
  startedAt: r.started_at,
  heartbeatAt: r.heartbeat_at,
  expiresAt: r.expires_at,
  fence: r.fence,
});

/** Job run leases: a row per job with a heartbeat, an expiry and a fencing token. */
export class LockStore {
  constructor(private readonly db: Database.Database) {}

  read(job: string): JobLock | undefined {
    const row = this.db.prepare<[string], LockRow>("SELECT * FROM job_locks WHERE job = ?").get(job);
    return row && toLock(row);
  }

  /** Takes the lease if it is free, expired, or held by a process known to be gone. */
  acquire(
    job: string,
    holder: { owner: string; pid: number; host: string },
    ttlMs: number,
    now: number,
    isGone: (lock: JobLock) => boolean,
  ): LockAttempt {
    return this.db
      .transaction((): LockAttempt => {
        const current = this.read(job);
        if (current && current.owner !== holder.owner && current.expiresAt > now && !isGone(current)) {
          return { acquired: false, holder: current };
        }
        const fence =
          (this.db
            .prepare<[string], { fence: number }>("SELECT fence FROM lock_fences WHERE job = ?")
            .get(job)?.fence ?? 0) + 1;
        this.db
          .prepare(
            "INSERT INTO lock_fences (job, fence) VALUES (?, ?) ON CONFLICT (job) DO UPDATE SET fence = excluded.fence",
          )
          .run(job, fence);
        this.db
          .prepare(
            `INSERT OR REPLACE INTO job_locks (job, owner, pid, host, started_at, heartbeat_at, expires_at, fence)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(job, holder.owner, holder.pid, holder.host, now, now, now + ttlMs, fence);
        const lock = this.read(job)!;
        return current && current.owner !== holder.owner
          ? { acquired: true, lock, reclaimed: current }
          : { acquired: true, lock };
      })
      .immediate();
  }

  /** Extends the lease; false when it was lost (reclaimed by another runner). */
  renew(job: string, owner: string, fence: number, ttlMs: number, now: number): boolean {
    return (
      this.db
        .prepare(
          "UPDATE job_locks SET heartbeat_at = ?, expires_at = ? WHERE job = ? AND owner = ? AND fence = ?",
        )
        .run(now, now + ttlMs, job, owner, fence).changes === 1
    );
  }

  release(job: string, owner: string): void {
    this.db.prepare("DELETE FROM job_locks WHERE job = ? AND owner = ?").run(job, owner);
  }

  /** True while `fence` is the job's newest token (checked inside the checkpoint transaction). */
  fenceValid(job: string, fence: number): boolean {
    return (
      this.db.prepare<[string], { fence: number }>("SELECT fence FROM lock_fences WHERE job = ?").get(job)
        ?.fence === fence
    );
  }

  list(): JobLock[] {
    return this.db.prepare<[], LockRow>("SELECT * FROM job_locks ORDER BY job").all().map(toLock);
  }
}
