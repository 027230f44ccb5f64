import type Database from "better-sqlite3";
import type { LockStore } from "../lock-store.js";
import type { JobLock, LockAttempt } from "../types.js";
import { NOW } from "./clock.js";
import { toLock, type LockRow } from "../rows.js";

const SELECT = `SELECT *, expires_at < ${NOW} AS expired FROM job_locks`;

/** Job run leases: a row per job with a heartbeat, an expiry and a fencing token. */
export class SqliteLockStore implements LockStore {
  constructor(private readonly db: Database.Database) {}

  private readRow(job: string): JobLock | undefined {
    const row = this.db.prepare<[string], LockRow>(`${SELECT} WHERE job = ?`).get(job);
    return row && toLock(row);
  }

  read(job: string): Promise<JobLock | undefined> {
    return Promise.resolve(this.readRow(job));
  }

  list(): Promise<JobLock[]> {
    return Promise.resolve(this.db.prepare<[], LockRow>(`${SELECT} ORDER BY job`).all().map(toLock));
  }

  acquire(
    job: string,
    holder: { owner: string; pid: number; host: string },
    ttlMs: number,
    takeOver?: string,
  ): Promise<LockAttempt> {
    const attempt = this.db
      .transaction((): LockAttempt => {
        const current = this.readRow(job);
        const free =
          !current || current.owner === holder.owner || current.expired || current.owner === takeOver;
        if (!free) return { acquired: false, holder: current };
        this.db
          .prepare(
            `INSERT INTO lock_fences (job, fence) VALUES (?, 1)
             ON CONFLICT (job) DO UPDATE SET fence = fence + 1`,
          )
          .run(job);
        this.db
          .prepare(
            `INSERT OR REPLACE INTO job_locks (job, owner, pid, host, started_at, heartbeat_at, expires_at, fence)
             SELECT ?, ?, ?, ?, ${NOW}, ${NOW}, ${NOW} + ?, fence FROM lock_fences WHERE job = ?`,
          )
          .run(job, holder.owner, holder.pid, holder.host, ttlMs, job);
        const lock = this.readRow(job)!;
        return current && current.owner !== holder.owner
          ? { acquired: true, lock, reclaimed: current }
          : { acquired: true, lock };
      })
      .immediate();
    return Promise.resolve(attempt);
  }

  renew(job: string, owner: string, fence: number, ttlMs: number): Promise<boolean> {
    const changed = this.db
      .prepare(
        `UPDATE job_locks SET heartbeat_at = ${NOW}, expires_at = ${NOW} + ? WHERE job = ? AND owner = ? AND fence = ?`,
      )
      .run(ttlMs, job, owner, fence).changes;
    return Promise.resolve(changed === 1);
  }

  release(job: string, owner: string): Promise<void> {
    this.db.prepare("DELETE FROM job_locks WHERE job = ? AND owner = ?").run(job, owner);
    return Promise.resolve();
  }
}

/** True while `fence` is the job's newest token (checked inside the checkpoint transaction). */
export function fenceValid(db: Database.Database, job: string, fence: number): boolean {
  return (
    db.prepare<[string], number>("SELECT fence FROM lock_fences WHERE job = ?").pluck().get(job) === fence
  );
}
