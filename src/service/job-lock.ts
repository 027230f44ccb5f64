import { machineName } from "../config/host.js";
import { isOwnerGone } from "../engine/owner.js";
import { LockedError } from "../errors.js";
import type { LockStore } from "../ledger/lock-store.js";
import type { JobLock } from "../ledger/types.js";
import { sleep } from "../resilience/sleep.js";

export const LOCK_TTL_MS = 60_000;
const POLL_MS = 250;

/** "code-index is being synced by pid 4242 on host-a since 12:01:03" */
export function describeHolder(job: string, l: JobLock): string {
  const since = new Date(l.startedAt).toISOString().slice(11, 19);
  return `${job} is being synced by pid ${l.pid} on ${l.host} since ${since} UTC`;
}

/** A job lock held by this run: renewed by a heartbeat, released at the end. */
export interface HeldLock {
  fence: number;
  reclaimed?: JobLock;
  /** True once a renewal found the lock taken by someone else. */
  lost(): boolean;
  release(): Promise<void>;
}

/**
 * Takes the job's lease, waiting up to `waitSeconds` (false: not at all) for the holder; a lease that
 * expired (the ledger's clock) is taken over, and one whose holder died on this host at once (its pid
 * is the hint). Throws LockedError naming the holder.
 */
export async function acquireJobLock(
  locks: LockStore,
  job: string,
  owner: string,
  waitSeconds: number | false,
  onWait: (holder: JobLock) => void,
  signal?: AbortSignal,
): Promise<HeldLock> {
  const holder = { owner, pid: process.pid, host: machineName() };
  const deadline = Date.now() + (waitSeconds === false ? 0 : waitSeconds * 1000);
  let told = false;
  for (;;) {
    let got = await locks.acquire(job, holder, LOCK_TTL_MS);
    if (!got.acquired && isOwnerGone(got.holder.owner))
      got = await locks.acquire(job, holder, LOCK_TTL_MS, got.holder.owner);
    if (got.acquired) {
      const lock = got.lock;
      let lost = false;
      const beat = setInterval(() => {
        locks
          .renew(job, owner, lock.fence, LOCK_TTL_MS)
          .then((ok) => {
            if (!ok) lost = true;
          })
          .catch(() => undefined);
      }, LOCK_TTL_MS / 4);
      beat.unref();
      return {
        fence: lock.fence,
        ...(got.reclaimed ? { reclaimed: got.reclaimed } : {}),
        lost: () => lost,
        release: async () => {
          clearInterval(beat);
          await locks.release(job, owner);
        },
      };
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0 || signal?.aborted) {
      const wait = waitSeconds === false ? "" : ` (waited ${waitSeconds}s)`;
      const retryIn = Math.max(1, Math.ceil((got.holder.expiresAt - Date.now()) / 1000));
      throw new LockedError(
        `${describeHolder(job, got.holder)}${wait}; retry when it finishes (its lease runs ${retryIn}s more unless renewed)`,
        got.holder,
      );
    }
    if (!told) {
      told = true;
      onWait(got.holder);
    }
    await sleep(Math.min(POLL_MS, remaining), signal);
  }
}

/** Serialises calls for one job inside this process (MCP and daemon in one process), with a bounded wait. */
export class JobMutex {
  private readonly held = new Set<string>();
  private readonly waiters = new Map<string, Set<() => void>>();

  /** True once held; false when `waitMs` passed with another call still holding it. */
  async acquire(job: string, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    while (this.held.has(job)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const list = this.waiters.get(job) ?? new Set<() => void>();
        this.waiters.set(job, list);
        const wake = (): void => {
          clearTimeout(timer);
          list.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        list.add(wake);
      });
    }
    this.held.add(job);
    return true;
  }

  release(job: string): void {
    this.held.delete(job);
    for (const wake of [...(this.waiters.get(job) ?? [])]) wake();
  }

  busy(job: string): boolean {
    return this.held.has(job);
  }
}
