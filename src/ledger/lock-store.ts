import type { JobLock, LockAttempt } from "./types.js";

/** Job leases: one runner per job across processes (and machines), with fencing tokens. */
export interface LockStore {
  /**
   * Takes the job's lease for `ttlMs` if it is free or expired (the ledger's clock decides), or held by
   * `takeOver` (an owner the caller knows is gone, e.g. a dead pid on its host). Every acquisition
   * draws a new, larger fencing token.
   */
  acquire(
    job: string,
    holder: { owner: string; pid: number; host: string },
    ttlMs: number,
    takeOver?: string,
  ): Promise<LockAttempt>;
  /** Extends the lease by `ttlMs` from now; false when it was lost to another runner. */
  renew(job: string, owner: string, fence: number, ttlMs: number): Promise<boolean>;
  release(job: string, owner: string): Promise<void>;
  read(job: string): Promise<JobLock | undefined>;
  list(): Promise<JobLock[]>;
}
