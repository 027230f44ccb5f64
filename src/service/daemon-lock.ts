import { newOwnerId } from "../engine/owner.js";
import { isLockedError, LockedError } from "../errors.js";
import type { LockStore } from "../ledger/lock-store.js";
import { acquireJobLock, type HeldLock } from "./job-lock.js";

/** The reserved job name whose lease marks the one daemon of a state folder. */
export const DAEMON_LOCK_JOB = "__daemon__";

/**
 * Takes the state folder's daemon lease without waiting (renewed by a heartbeat; a holder that died on
 * this host is reclaimed at once, one elsewhere once its lease expires). Throws LockedError naming the
 * daemon that holds it.
 */
export async function acquireDaemonLock(locks: LockStore, stateDir: string): Promise<HeldLock> {
  try {
    return await acquireJobLock(locks, DAEMON_LOCK_JOB, newOwnerId(), false, () => undefined);
  } catch (e) {
    if (!isLockedError(e)) throw e;
    const since = new Date(e.holder.startedAt).toISOString().slice(11, 19);
    throw new LockedError(
      `another daemon runs on ${stateDir}: pid ${e.holder.pid} on ${e.holder.host} since ${since} UTC; stop it first (one daemon per state folder)`,
      e.holder,
    );
  }
}
