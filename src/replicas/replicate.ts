import { isBrokenCircuitError, isLockedError, errorMessage } from "../errors.js";
import type { Ledger } from "../ledger/ledger.js";
import { CircuitBreaker, type BreakerTransition } from "../resilience/circuit-breaker.js";
import { acquireJobLock } from "../service/job-lock.js";
export { resolveTargets, type ReplicateOverrides } from "./targets.js";
import {
  emptyReport,
  runTarget,
  type ResolvedTarget,
  type RunOptions,
  type TargetReport,
} from "./run-target.js";

export const replicaLockName = (t: { replica: string; target: string }): string =>
  `replica:${t.replica}:${t.target}`;

/** The ledger meta key holding the ISO time of a target's last run that ended `ok`. */
export const replicaLastSuccessKey = (t: { replica: string; target: string }): string =>
  `last_success:${replicaLockName(t)}`;

/** A target's last successful run (ISO time), or null. */
export async function replicaLastSuccess(
  ledger: Ledger,
  t: { replica: string; target: string },
): Promise<string | null> {
  return (await ledger.getMeta(replicaLastSuccessKey(t))) ?? null;
}

function summary(r: TargetReport): string {
  const head = `${replicaLockName(r)}: ${r.status}`;
  if (r.status !== "ok") return r.message === undefined ? head : `${head} (${r.message})`;
  return `${head}: ${r.copied} copied, ${r.deleted} deleted, ${r.conflicts.length} conflicts, ${r.errors.length} errors`;
}

/** Records a run's outcome: an event (`replica:run`), and the last-success time when it ended ok. */
async function record(ledger: Ledger, r: TargetReport, now: number): Promise<void> {
  if (r.status === "dry-run") return;
  if (r.status === "ok") await ledger.setMeta(replicaLastSuccessKey(r), new Date(now).toISOString());
  const level =
    r.status === "ok" ? (r.errors.length > 0 ? "warn" : "info") : r.status === "locked" ? "info" : "warn";
  await ledger.appendEvents([
    {
      ts: now,
      runId: null,
      job: null,
      level,
      type: "replica:run",
      message: summary(r),
      data: {
        replica: r.replica,
        target: r.target,
        status: r.status,
        copied: r.copied,
        deleted: r.deleted,
        conflicts: r.conflicts.length,
        errors: r.errors.length,
        ...(r.message === undefined ? {} : { message: r.message }),
      },
    },
  ]);
}

/** The per-target breaker: 3 consecutive failures open it for 60 s, doubling on each re-open. */
export function targetBreaker(
  ledger: Ledger,
  t: { replica: string; target: string },
  owner: string,
  onTransition?: (tr: BreakerTransition) => void,
): CircuitBreaker {
  return new CircuitBreaker(
    replicaLockName(t),
    ledger,
    {
      failureThreshold: 3,
      successThreshold: 1,
      timeoutMs: 60_000,
      maxTimeoutMs: 3_600_000,
      halfOpenMaxCalls: 1,
      probeLeaseMs: 600_000,
    },
    owner,
    onTransition,
  );
}

/**
 * Replicates each target in turn, each under its own lock and breaker: an open breaker or a held
 * lock skips that target and the others proceed.
 */
export async function replicate(
  ledger: Ledger,
  owner: string,
  targets: readonly ResolvedTarget[],
  o: RunOptions,
  log: (line: string) => void,
): Promise<TargetReport[]> {
  const reports: TargetReport[] = [];
  for (const t of targets) {
    if (o.signal?.aborted) break;
    const breaker = targetBreaker(ledger, t, owner, (tr) =>
      log(`[CIRCUIT] ${tr.provider}: ${tr.from} → ${tr.to} (${tr.reason})`),
    );
    let permit;
    try {
      permit = await breaker.acquire();
    } catch (e) {
      if (!isBrokenCircuitError(e)) throw e;
      const skipped = emptyReport(t, "skipped", `${errorMessage(e)}; target skipped`);
      await record(ledger, skipped, Date.now());
      reports.push(skipped);
      continue;
    }
    let lock;
    try {
      lock = await acquireJobLock(ledger, replicaLockName(t), owner, false, () => undefined);
    } catch (e) {
      await breaker.release(permit);
      if (!isLockedError(e)) throw e;
      reports.push(emptyReport(t, "locked", errorMessage(e)));
      continue;
    }
    try {
      let report: TargetReport;
      try {
        report = await runTarget(t, o);
      } catch (e) {
        report = { ...emptyReport(t, "error", errorMessage(e)), unreachable: true };
      }
      if (report.unreachable) await breaker.failure(permit, report.message ?? "unreachable");
      else if (report.status === "refused" || report.status === "interrupted") await breaker.release(permit);
      else await breaker.success(permit);
      await record(ledger, report, Date.now());
      reports.push(report);
    } finally {
      await lock.release();
    }
  }
  return reports;
}
