import type { LockStore } from "../lock-store.js";
import type { JobLock, LockAttempt } from "../types.js";
import { millis } from "./millis.js";
import { NOW, type PgDatabase } from "./pg-database.js";
import { toLock, type LockRow } from "../rows.js";

const COLUMNS = `job, owner, pid, host, started_at, heartbeat_at, expires_at, fence, expires_at < ${NOW} AS expired`;

/** Job run leases: a row per job with a heartbeat, an expiry and a fencing token (lock_fences keeps the newest). */
export class PgLockStore implements LockStore {
  constructor(private readonly db: PgDatabase) {}

  async read(job: string): Promise<JobLock | undefined> {
    const rows = await this.db.query<LockRow>(`SELECT ${COLUMNS} FROM job_locks WHERE job = $1`, [job]);
    return rows[0] && toLock(rows[0]);
  }

  async list(): Promise<JobLock[]> {
    const rows = await this.db.query<LockRow>(`SELECT ${COLUMNS} FROM job_locks ORDER BY job COLLATE "C"`);
    return rows.map(toLock);
  }

  /**
   * One transaction: acquirers of one job queue on an advisory lock (the row may not exist yet), the
   * current row is read under its row lock (a renew or release waits for the decision), then the fence is
   * drawn and the lease written with one reading of the clock.
   */
  acquire(
    job: string,
    holder: { owner: string; pid: number; host: string },
    ttlMs: number,
    takeOver?: string,
  ): Promise<LockAttempt> {
    return this.db.tx(async (c): Promise<LockAttempt> => {
      await c.query("SELECT pg_advisory_xact_lock(hashtext('lock:' || $1))", [job]);
      const { rows } = await c.query<LockRow>(`SELECT ${COLUMNS} FROM job_locks WHERE job = $1 FOR UPDATE`, [
        job,
      ]);
      const current = rows[0] && toLock(rows[0]);
      const free =
        !current || current.owner === holder.owner || current.expired || current.owner === takeOver;
      if (!free) return { acquired: false, holder: current };
      const written = await c.query<LockRow>(
        `WITH f AS (
           INSERT INTO lock_fences (job, fence) VALUES ($1, 1)
           ON CONFLICT (job) DO UPDATE SET fence = lock_fences.fence + 1 RETURNING fence
         ), t AS (SELECT ${NOW} AS now)
         INSERT INTO job_locks (job, owner, pid, host, started_at, heartbeat_at, expires_at, fence)
         SELECT $1, $2, $3, $4, t.now, t.now, t.now + $5, f.fence FROM f, t
         ON CONFLICT (job) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host,
           started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at,
           expires_at = excluded.expires_at, fence = excluded.fence
         RETURNING ${COLUMNS}`,
        [job, holder.owner, holder.pid, holder.host, millis(ttlMs)],
      );
      const lock = toLock(written.rows[0]!);
      return current && current.owner !== holder.owner
        ? { acquired: true, lock, reclaimed: current }
        : { acquired: true, lock };
    });
  }

  async renew(job: string, owner: string, fence: number, ttlMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE job_locks SET heartbeat_at = t.now, expires_at = t.now + $1 FROM (SELECT ${NOW} AS now) t
       WHERE job = $2 AND owner = $3 AND fence = $4 RETURNING job`,
      [millis(ttlMs), job, owner, fence],
    );
    return rows.length === 1;
  }

  async release(job: string, owner: string): Promise<void> {
    await this.db.query("DELETE FROM job_locks WHERE job = $1 AND owner = $2", [job, owner]);
  }
}
