import { isOwnerGone } from "../engine/owner.js";
import type { JobLock } from "../ledger/types.js";
import { check, type CheckResult } from "./types.js";

export interface StaleLock {
  job: string;
  owner: string;
  pid: number;
  host: string;
  why: "holder-dead" | "expired";
}

/** Job locks whose lease expired (the ledger's clock), or whose holder died on this host (its pid: a hint). */
export function staleLocks(locks: readonly JobLock[]): StaleLock[] {
  return locks.flatMap((l) => {
    const dead = isOwnerGone(l.owner);
    if (!dead && !l.expired) return [];
    return [
      {
        job: l.job,
        owner: l.owner,
        pid: l.pid,
        host: l.host,
        why: dead ? "holder-dead" : "expired",
      } as const,
    ];
  });
}

export function checkLocks(locks: readonly JobLock[]): CheckResult {
  const stale = staleLocks(locks);
  if (stale.length === 0)
    return check("job-locks", "ok", `${locks.length} job locks held, none stale`, { held: locks.length });
  const list = stale.map(
    (s) => `${s.job} (pid ${s.pid} on ${s.host}, ${s.why === "expired" ? "expired" : "holder gone"})`,
  );
  return check("job-locks", "warning", `${stale.length} stale job locks: ${list.join(", ")}`, {
    held: locks.length,
    stale,
  });
}
