import { existsSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { LoadedConfig } from "../config/load-config.js";
import { errorMessage } from "../errors.js";
import { SqliteLedger } from "../ledger/sqlite/sqlite-ledger.js";
import { SyncService } from "../service/sync-service.js";
import { checkBacklog } from "./backlog.js";
import { checkBackups, pruneBackups, pruneTempFiles } from "./backups.js";
import { checkBreakers } from "./breakers.js";
import { checkDisk } from "./disk.js";
import { checkIntegrity } from "./integrity.js";
import { checkLeases, requeueExpiredLeases } from "./leases.js";
import { checkLocks, reclaimLocks } from "./locks.js";
import { checkSchedules, overdueJobs, overdueReplicaTargets, startReplication } from "./overdue.js";
import { checkReplicas } from "./replicas.js";
import { replicaSnapshots, restoreFromSnapshot } from "./restore.js";
import { checkStorage, compact } from "./storage.js";
import { check, exitCodeFor, type CheckResult, type RepairResult } from "./types.js";

export interface DoctorOptions {
  repair?: boolean;
  thorough?: boolean;
  /** Repairs that start syncs of overdue jobs (off for the daemon, which runs due jobs itself). */
  startSyncs?: boolean;
  /**
   * Restore a database failing its integrity check from a snapshot (default true). Only safe when no
   * connection holds the file: the daemon, which holds one, turns it off.
   */
  restore?: boolean;
  /** An open service on this state to repair through (the daemon's); otherwise doctor opens its own. */
  service?: SyncService;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export interface DoctorReport {
  /** The state after repairs (when --repair ran). */
  checks: CheckResult[];
  repairs: RepairResult[];
  /** 0 healthy, 1 warnings, 2 critical. */
  exitCode: number;
}

/** A check that threw (a missing table, a locked file) is reported, not thrown. */
function guarded(name: string, fn: () => CheckResult): CheckResult {
  try {
    return fn();
  } catch (e) {
    return check(name, "critical", `check failed: ${errorMessage(e)}`, {});
  }
}

/** Runs every check on the state folder as it is now; the database is opened read-only. */
export function runChecks(
  loaded: LoadedConfig,
  thorough: boolean,
  env: NodeJS.ProcessEnv,
  now: number,
): CheckResult[] {
  const dbFile = path.join(loaded.stateDir, "state.db");
  const checks: CheckResult[] = [guarded("disk", () => checkDisk(loaded.stateDir, env))];
  const integrity = checkIntegrity(dbFile, thorough);
  checks.push(integrity);
  const replicas = (db?: Database.Database): CheckResult =>
    guarded("replicas", () => checkReplicas(loaded, db));
  if (integrity.status === "ok" && existsSync(dbFile)) {
    let db: Database.Database | undefined;
    try {
      db = new Database(dbFile, { readonly: true, fileMustExist: true });
      db.pragma("busy_timeout = 5000");
      const open = db;
      checks.push(
        guarded("database-size", () => checkStorage(open, dbFile, env)),
        guarded("schedules", () => checkSchedules(open, loaded.config.jobs, now, loaded.config.replicas)),
        guarded("breakers", () => checkBreakers(open, now)),
        guarded("job-locks", () => checkLocks(open, now)),
        guarded("leases", () => checkLeases(open, now)),
        guarded("backlog", () => checkBacklog(open)),
        replicas(open),
      );
    } catch (e) {
      checks.push(
        check("database-open", "critical", `cannot open the state database: ${errorMessage(e)}`, {}),
        replicas(),
      );
    } finally {
      db?.close();
    }
  } else checks.push(replicas());
  checks.push(guarded("backups", () => checkBackups(loaded.stateDir, env, now)));
  return checks;
}

const repair = (
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

/**
 * Safe repairs, in order: restore a database failing its integrity check from the newest verified
 * snapshot (in backups/ or on a replica target); prune backups past retention and stray *.tmp files;
 * then, only once the database is sound and opened through the service (migrations), reclaim stale
 * job locks, requeue expired leases, start syncs of overdue jobs, and checkpoint/optimize/VACUUM. Each
 * repair is appended to the events table.
 */
export async function runRepairs(
  loaded: LoadedConfig,
  o: {
    thorough: boolean;
    startSyncs: boolean;
    restore: boolean;
    env: NodeJS.ProcessEnv;
    now: () => number;
    service?: SyncService | undefined;
  },
): Promise<RepairResult[]> {
  const dbFile = path.join(loaded.stateDir, "state.db");
  const repairs: RepairResult[] = [];
  const attempt = async (
    name: string,
    fn: () => RepairResult | undefined | Promise<RepairResult | undefined>,
  ): Promise<void> => {
    try {
      const r = await fn();
      if (r) repairs.push(r);
    } catch (e) {
      repairs.push(repair(name, false, `failed: ${errorMessage(e)}`));
    }
  };

  const database = { sound: true };
  if (existsSync(dbFile) && checkIntegrity(dbFile, o.thorough).status === "critical") {
    database.sound = false;
    if (o.restore)
      await attempt("restore-database", () => {
        const r = restoreFromSnapshot(dbFile, loaded.stateDir, o.now(), replicaSnapshots(loaded));
        database.sound = r.restored && checkIntegrity(dbFile, o.thorough).status === "ok";
        return repair("restore-database", r.restored, r.message, {
          from: r.from ?? null,
          movedAside: r.movedAside,
          rejected: r.rejected,
        });
      });
  }
  await attempt("prune-backups", () => {
    const pruned = pruneBackups(loaded.stateDir, o.env, o.now());
    return pruned.length === 0
      ? undefined
      : repair(
          "prune-backups",
          true,
          `deleted ${pruned.length} backups past retention: ${pruned.join(", ")}`,
          { pruned },
        );
  });
  await attempt("prune-temp-files", () => {
    const removed = pruneTempFiles(loaded.stateDir);
    return removed.length === 0
      ? undefined
      : repair(
          "prune-temp-files",
          true,
          `deleted ${removed.length} stray temp files: ${removed.join(", ")}`,
          { removed },
        );
  });
  if (!database.sound || !existsSync(dbFile)) return repairs;

  let service: SyncService;
  try {
    service = o.service ?? SyncService.open(loaded);
  } catch (e) {
    repairs.push(repair("open-ledger", false, `cannot open the ledger to repair it: ${errorMessage(e)}`));
    return repairs;
  }
  try {
    if (!(service.ledger instanceof SqliteLedger)) return repairs;
    const db = service.ledger.db;
    await attempt("reclaim-locks", () => {
      const freed = reclaimLocks(db, o.now());
      return freed.length === 0
        ? undefined
        : repair(
            "reclaim-locks",
            true,
            `deleted ${freed.length} stale job locks: ${freed.map((l) => `${l.job} (pid ${l.pid} on ${l.host})`).join(", ")}`,
            { locks: freed },
          );
    });
    await attempt("requeue-leases", () => {
      const n = requeueExpiredLeases(db, o.now());
      return n === 0
        ? undefined
        : repair("requeue-leases", true, `requeued ${n} items whose lease expired`, { items: n });
    });
    if (o.startSyncs) {
      for (const job of overdueJobs(db, loaded.config.jobs, o.now())) {
        await attempt("start-sync", async () => {
          const result = await service
            .execute({ job: job.job, scope: {}, options: { wait: false }, trigger: "api" })
            .catch((e: unknown) => {
              throw new Error(`could not start a sync of overdue job ${job.job}: ${errorMessage(e)}`);
            });
          return repair(
            "start-sync",
            result.status === "completed",
            `started a sync of overdue job ${job.job} (last success ${job.lastSuccess ?? "never"}): ${result.status} in ${result.durationSeconds}s`,
            { job: job.job, runId: result.runId, status: result.status },
          );
        });
      }
      for (const t of overdueReplicaTargets(db, loaded.config.replicas, o.now()))
        await attempt("start-replication", () => startReplication(service, t, o.now()));
    }
    await attempt("compact", () => {
      const r = compact(db, dbFile);
      return repair("compact", true, r.message, r.details as unknown as Record<string, unknown>);
    });
    await service.ledger.appendEvents(
      repairs.map((r) => ({
        ts: o.now(),
        runId: null,
        job: typeof r.details.job === "string" ? r.details.job : null,
        level: r.ok ? "info" : "warn",
        type: "doctor:repair",
        message: `doctor: ${r.name}: ${r.message}`,
        data: r,
      })),
    );
    // the events just written go to the main file too, so the WAL is left empty
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    if (!o.service) await service.close();
  }
  return repairs;
}

/** `syncwarden doctor`: repairs (when asked), then the checks of the state as it is afterwards. */
export async function runDoctor(loaded: LoadedConfig, options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const thorough = options.thorough ?? false;
  const repairs = options.repair
    ? await runRepairs(loaded, {
        thorough,
        startSyncs: options.startSyncs ?? true,
        restore: options.restore ?? true,
        env,
        now,
        service: options.service,
      })
    : [];
  const checks = runChecks(loaded, thorough, env, now());
  return { checks, repairs, exitCode: exitCodeFor(checks) };
}
