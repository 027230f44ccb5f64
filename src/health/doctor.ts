import path from "node:path";
import { healthSettings } from "../config/health.js";
import type { LoadedConfig } from "../config/load-config.js";
import { errorMessage } from "../errors.js";
import type { Ledger } from "../ledger/ledger.js";
import type { MaintenanceStore } from "../ledger/maintenance-store.js";
import { checkBacklog } from "./backlog.js";
import { checkBackups, pruneBackups, pruneTempFiles } from "./backups.js";
import { checkBreakers } from "./breakers.js";
import { checkDisk } from "./disk.js";
import { checkFailedRuns } from "./failed-runs.js";
import { checkIntegrity } from "./integrity.js";
import { checkLeases } from "./leases.js";
import { checkLocks, staleLocks } from "./locks.js";
import {
  checkSchedules,
  overdueJobs,
  overdueReplicaTargets,
  type OverdueJob,
  type OverdueTarget,
} from "./overdue.js";
import { checkReplicas } from "./replicas.js";
import { abandonedRuns, checkRuns, describeRun } from "./runs.js";
import { closeInterruptedRuns } from "../engine/interrupted-run.js";
import { restoreCandidates } from "./restore.js";
import { checkStorage } from "./storage.js";
import { checkLedgerSize } from "./ledger-size.js";
import { check, exitCodeFor, type CheckResult, type RepairResult } from "./types.js";

export interface DoctorOptions {
  repair?: boolean;
  thorough?: boolean;
  /** Repairs that start syncs of overdue jobs and replica targets (off for the daemon, which runs them on schedule). */
  startSyncs?: boolean;
  /** Restore a ledger failing its integrity check from a snapshot (only where nothing holds it open). */
  restore?: boolean;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  signal?: AbortSignal;
}

export interface DoctorReport {
  /** The state after repairs (when --repair ran). */
  checks: CheckResult[];
  repairs: RepairResult[];
  /** 0 healthy, 1 warnings, 2 critical. */
  exitCode: number;
}

/** What the repairs that start work call (the services). */
export interface DoctorActions {
  startSync(job: OverdueJob): Promise<RepairResult>;
  startReplication(target: OverdueTarget): Promise<RepairResult>;
}

export const repair = (
  name: string,
  ok: boolean,
  message: string,
  details: Record<string, unknown> = {},
): RepairResult => ({
  name,
  ok,
  message,
  details,
});

/** A check that threw (a locked file, an unreadable folder) is reported, not thrown. */
async function guarded(name: string, fn: () => CheckResult | Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await fn();
  } catch (e) {
    return check(name, "critical", `check failed: ${errorMessage(e)}`, {});
  }
}

/** Runs `fn` as one repair: its result (or none), or its failure as a failed repair. */
async function attempt(
  repairs: RepairResult[],
  name: string,
  fn: () => RepairResult | undefined | Promise<RepairResult | undefined>,
): Promise<void> {
  try {
    const r = await fn();
    if (r) repairs.push(r);
  } catch (e) {
    repairs.push(repair(name, false, `failed: ${errorMessage(e)}`));
  }
}

/**
 * Every check of the state as it is now. `ledger` is the open ledger, when it is sound and exists: the
 * checks that read it are left out otherwise (integrity says why).
 */
export async function runChecks(
  loaded: LoadedConfig,
  maintenance: MaintenanceStore,
  ledger: Ledger | undefined,
  o: { thorough: boolean; env: NodeJS.ProcessEnv; now: number },
): Promise<CheckResult[]> {
  const checks: CheckResult[] = [await guarded("disk", () => checkDisk(loaded.stateDir, o.env))];
  checks.push(await guarded("database-integrity", () => checkIntegrity(maintenance, o.thorough)));
  if (ledger) {
    const { jobs, replicas } = loaded.config;
    checks.push(
      await guarded("database-size", async () => checkStorage(await maintenance.size(), o.env)),
      await guarded("ledger-size", async () =>
        checkLedgerSize(await maintenance.size(), loaded.config.doctor.max_db_bytes),
      ),
      await guarded("schedules", () =>
        checkSchedules(
          ledger.meta,
          jobs,
          o.now,
          replicas,
          healthSettings(loaded.config, loaded.file).replicaEveryMs,
        ),
      ),
      await guarded("breakers", async () => checkBreakers(await ledger.resilience.listBreakers(), o.now)),
      await guarded("job-locks", async () => checkLocks(await ledger.locks.list())),
      await guarded("runs", async () => checkRuns(await abandonedRuns(ledger))),
      await guarded("leases", async () => checkLeases(await ledger.plans.expiredLeases())),
      await guarded("backlog", async () =>
        checkBacklog(await ledger.plans.countByJob("DEAD"), await ledger.resilience.countDebtsByJob()),
      ),
      await guarded("replicas", async () => checkReplicas(loaded, await ledger.resilience.listBreakers())),
      await guarded("failed-runs", () => checkFailedRuns(ledger.runs, Object.keys(jobs))),
    );
  } else checks.push(await guarded("replicas", () => checkReplicas(loaded)));
  checks.push(await guarded("backups", () => checkBackups(loaded.stateDir, o.env, o.now)));
  return checks;
}

/**
 * The repairs that need no open ledger, in order: restore a ledger failing its integrity check from
 * the newest verified snapshot (backups/ or a replica target), prune backups past retention and stray
 * temp files. Returns whether the ledger is sound afterwards.
 */
export async function fileRepairs(
  loaded: LoadedConfig,
  maintenance: MaintenanceStore,
  o: { thorough: boolean; restore: boolean; env: NodeJS.ProcessEnv; now: () => number },
): Promise<{ repairs: RepairResult[]; sound: boolean }> {
  const repairs: RepairResult[] = [];
  let sound = true;
  if (maintenance.exists() && (await maintenance.integrity(o.thorough)).length > 0) {
    sound = false;
    if (o.restore)
      await attempt(repairs, "restore-database", async () => {
        const r = await maintenance.restore(restoreCandidates(loaded, path.basename(maintenance.location)));
        sound = r.restored && (await maintenance.integrity(o.thorough)).length === 0;
        return repair("restore-database", r.restored, r.message, {
          from: r.from ?? null,
          movedAside: r.movedAside,
          rejected: r.rejected,
        });
      });
  }
  await attempt(repairs, "prune-backups", () => {
    const pruned = pruneBackups(loaded.stateDir, o.env, o.now());
    return pruned.length === 0
      ? undefined
      : repair(
          "prune-backups",
          true,
          `deleted ${pruned.length} backups past retention: ${pruned.join(", ")}`,
          {
            pruned,
          },
        );
  });
  await attempt(repairs, "prune-temp-files", () => {
    const removed = pruneTempFiles(loaded.stateDir);
    return removed.length === 0
      ? undefined
      : repair(
          "prune-temp-files",
          true,
          `deleted ${removed.length} stray temp files: ${removed.join(", ")}`,
          {
            removed,
          },
        );
  });
  return { repairs, sound };
}

/**
 * The repairs on an open, sound ledger, in order: reclaim stale job locks, close runs left running by a
 * stopped process as interrupted, requeue expired leases,
 * start overdue syncs and replications (when `actions` are given), compact.
 */
export async function ledgerRepairs(
  loaded: LoadedConfig,
  ledger: Ledger,
  o: { now: () => number; actions?: DoctorActions; signal?: AbortSignal },
): Promise<RepairResult[]> {
  const repairs: RepairResult[] = [];
  await attempt(repairs, "reclaim-locks", async () => {
    const freed = [];
    for (const s of staleLocks(await ledger.locks.list())) {
      // only if it is still the same holder's
      const now = await ledger.locks.read(s.job);
      if (now?.owner !== s.owner) continue;
      await ledger.locks.release(s.job, s.owner);
      freed.push(s);
    }
    return freed.length === 0
      ? undefined
      : repair(
          "reclaim-locks",
          true,
          `deleted ${freed.length} stale job locks: ${freed.map((l) => `${l.job} (pid ${l.pid} on ${l.host})`).join(", ")}`,
          { locks: freed },
        );
  });
  await attempt(repairs, "close-interrupted-runs", async () => {
    const closed = await closeInterruptedRuns(ledger.runs, await abandonedRuns(ledger), "doctor --repair");
    return closed.length === 0
      ? undefined
      : repair(
          "close-interrupted-runs",
          true,
          `closed ${closed.length} runs left running by a stopped process as interrupted: ${closed.map(describeRun).join(", ")}`,
          { runs: closed.map((r) => ({ runId: r.id, job: r.job })) },
        );
  });
  await attempt(repairs, "requeue-leases", async () => {
    const n = await ledger.plans.requeueExpired();
    return n === 0
      ? undefined
      : repair("requeue-leases", true, `requeued ${n} items whose lease expired`, { items: n });
  });
  if (o.actions) {
    for (const job of await overdueJobs(ledger.meta, loaded.config.jobs, o.now())) {
      if (o.signal?.aborted) break;
      await attempt(repairs, "start-sync", () => o.actions!.startSync(job));
    }
    const replicaEveryMs = healthSettings(loaded.config, loaded.file).replicaEveryMs;
    for (const t of await overdueReplicaTargets(
      ledger.meta,
      loaded.config.replicas,
      o.now(),
      replicaEveryMs,
    )) {
      if (o.signal?.aborted) break;
      await attempt(repairs, "start-replication", () => o.actions!.startReplication(t));
    }
  }
  await attempt(repairs, "compact", async () => {
    const r = await ledger.maintenance.compact();
    return repair("compact", true, r.message, r.details as unknown as Record<string, unknown>);
  });
  return repairs;
}

export { exitCodeFor };
