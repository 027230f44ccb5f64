import { mkdirSync } from "node:fs";
import path from "node:path";
import type { LoadedConfig } from "../config/load-config.js";
import { newOwnerId } from "../engine/owner.js";
import { errorMessage, isBrokenCircuitError, isLockedError, UsageError } from "../errors.js";
import { EventBus, type Disposable, type Listener } from "../events.js";
import type { Ledger } from "../ledger/ledger.js";
import { replicaLastRunKey, replicaLastSuccessKey, replicaLockName } from "../ledger/meta-keys.js";
import { openLedger } from "../ledger/open-ledger.js";
import type { Direction } from "../replicas/reconcile.js";
import { emptyReport, runTarget, type TargetReport } from "../replicas/run-target.js";
import { snapshotDue, stateSnapshotPath } from "../replicas/state-snapshot.js";
import {
  configuredTargets,
  ownsState,
  resolveTargets,
  type ReplicateOverrides,
  type ResolvedTarget,
} from "../replicas/targets.js";
import { verifyTarget, type VerifyReport } from "../replicas/verify.js";
import { CircuitBreaker, type BreakerOptions } from "../resilience/circuit-breaker.js";
import { healthSettings } from "../config/health.js";
import { EventLogWriter } from "./event-log.js";
import { acquireJobLock } from "./job-lock.js";
import { breakerHealth, type BreakerHealth } from "./status.js";

export { replicaLastRunKey, replicaLastSuccessKey, replicaLockName };
export type { ConflictStrategy, Direction } from "../replicas/reconcile.js";
export type { TargetReport } from "../replicas/run-target.js";
export type { VerifyReport } from "../replicas/verify.js";

/** One replication request, from any entry point. */
export interface ReplicaRequest extends ReplicateOverrides {
  /** Only this replica (default: all). */
  replica?: string;
  /** Only this target of it. */
  target?: string;
  dryRun?: boolean;
  force?: boolean;
  /** Stamp the start as a scheduled run's (daemon, doctor), so a failing target waits before its next try. */
  scheduled?: boolean;
  signal?: AbortSignal;
}

/** One replication result: a report per target. */
export interface ReplicaResult {
  targets: TargetReport[];
}

/** One replica target as `status` shows it. */
export interface ReplicaTargetStatus {
  /** `replica:<replica>:<target>`, the name of its breaker and lock. */
  name: string;
  replica: string;
  target: string;
  /** The target folder, resolved against the config file. */
  path: string;
  direction: Direction;
  breaker: BreakerHealth;
  /** When a run on it last ended ok (ISO time), or null. */
  lastSuccess: string | null;
}

/** The per-target breaker: `health.replica_breaker` (3 consecutive failures open it for 60 s by default), doubling on each re-open. */
function targetBreaker(loaded: LoadedConfig): BreakerOptions {
  const { failureThreshold, timeoutMs } = healthSettings(loaded.config, loaded.file).replicaBreaker;
  return {
    failureThreshold,
    successThreshold: 1,
    timeoutMs,
    maxTimeoutMs: Math.max(timeoutMs, 3_600_000),
    halfOpenMaxCalls: 1,
    probeLeaseMs: 600_000,
  };
}

/**
 * Replicas as a service beside SyncService, with the same conventions: a request and a result, the
 * job lock (one run per target across processes), a breaker per target, events on the one map, and
 * an AbortSignal carried into the file sync.
 */
export class ReplicaService {
  readonly events: EventBus;
  private readonly log: EventLogWriter;
  private readonly owner = newOwnerId();
  private readonly breakerOptions: BreakerOptions;

  constructor(
    readonly loaded: LoadedConfig,
    private readonly ledger: Ledger,
    options: { events?: EventBus; log?: EventLogWriter } = {},
  ) {
    this.events = options.events ?? new EventBus();
    this.log = options.log ?? new EventLogWriter(this.events, ledger.events);
    this.breakerOptions = targetBreaker(loaded);
  }

  static open(loaded: LoadedConfig): ReplicaService {
    return new ReplicaService(loaded, openLedger(loaded));
  }

  on(listener: Listener): Disposable {
    return this.events.on(listener);
  }

  async close(): Promise<void> {
    await this.log.close();
    await this.ledger.close();
  }

  /** Every configured target (none, rather than a ConfigError, when no replicas are configured). */
  targets(): ResolvedTarget[] {
    return configuredTargets(this.loaded);
  }

  /** The names of every configured target's lock and breaker (`replica:<replica>:<target>`). */
  targetNames(): string[] {
    return this.targets().map(replicaLockName);
  }

  private breakerOf(name: string): CircuitBreaker {
    return new CircuitBreaker(name, this.ledger.resilience, this.breakerOptions, this.owner, this.events);
  }

  /** Replicates each target in turn, each under its own lock and breaker; an open breaker or a held lock skips that target only. */
  async replicate(req: ReplicaRequest = {}): Promise<ReplicaResult> {
    const overrides = {
      ...(req.direction ? { direction: req.direction } : {}),
      ...(req.conflict ? { conflict: req.conflict } : {}),
    };
    const targets = resolveTargets(this.loaded, req.replica, overrides).filter(
      (t) => req.target === undefined || t.target === req.target,
    );
    const reports: TargetReport[] = [];
    for (const t of targets) {
      if (req.signal?.aborted) break;
      reports.push(await this.replicateOne(t, req));
    }
    return { targets: reports };
  }

  private async replicateOne(t: ResolvedTarget, req: ReplicaRequest): Promise<TargetReport> {
    if (req.scheduled) await this.ledger.meta.set(replicaLastRunKey(t), new Date().toISOString());
    const breaker = this.breakerOf(replicaLockName(t));
    let permit;
    try {
      permit = await breaker.acquire();
    } catch (e) {
      if (!isBrokenCircuitError(e)) throw e;
      return this.record(emptyReport(t, "skipped", `${errorMessage(e)}; target skipped`));
    }
    let lock;
    try {
      lock = await acquireJobLock(this.ledger.locks, replicaLockName(t), this.owner, false, () => undefined);
    } catch (e) {
      await breaker.release(permit);
      if (!isLockedError(e)) throw e;
      return emptyReport(t, "locked", errorMessage(e));
    }
    try {
      this.events.emit("replica:start", { replica: t.replica, target: t.target });
      let report: TargetReport;
      try {
        report = await runTarget(t, {
          dryRun: req.dryRun ?? false,
          force: req.force ?? false,
          ...(req.signal ? { signal: req.signal } : {}),
          progress: (message) =>
            this.events.emit("replica:progress", { replica: t.replica, target: t.target, message }),
        });
      } catch (e) {
        report = { ...emptyReport(t, "error", errorMessage(e)), unreachable: true };
      }
      if (report.status === "ok" && !req.dryRun && ownsState(t)) report = await this.withSnapshot(t, report);
      if (report.unreachable) await breaker.failure(permit, report.message ?? "unreachable");
      // refused (a guard) or interrupted (a signal): the target is not at fault
      else if (report.status === "refused" || report.status === "interrupted") await breaker.release(permit);
      else await breaker.success(permit);
      return await this.record(report);
    } finally {
      await lock.release();
      await this.log.flush();
    }
  }

  /**
   * A replica of the state folder carries this machine's verified snapshot of the ledger to the target
   * (at most hourly), for doctor --repair; a failure is one more error in the report, never a failed run.
   */
  private async withSnapshot(t: ResolvedTarget, report: TargetReport): Promise<TargetReport> {
    const file = stateSnapshotPath(t.remoteRoot);
    if (!snapshotDue(file, Date.now())) return report;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      await this.ledger.maintenance.backup(file);
      return { ...report, snapshot: file };
    } catch (e) {
      return { ...report, errors: [...report.errors, { path: file, message: errorMessage(e) }] };
    }
  }

  /** A run's outcome: its last-success time when it ended ok, and an event (a dry run leaves neither). */
  private async record(r: TargetReport): Promise<TargetReport> {
    if (r.status === "dry-run") return r;
    if (r.status === "ok") await this.ledger.meta.set(replicaLastSuccessKey(r), new Date().toISOString());
    this.events.emit("replica:end", {
      replica: r.replica,
      target: r.target,
      status: r.status,
      copied: r.copied,
      deleted: r.deleted,
      conflicts: r.conflicts.length,
      errors: r.errors.length,
      ...(r.message === undefined ? {} : { message: r.message }),
    });
    return r;
  }

  /** Hashes both sides of every target (of one replica) and lists every difference. */
  async verify(replica?: string): Promise<VerifyReport[]> {
    const reports: VerifyReport[] = [];
    for (const t of resolveTargets(this.loaded, replica)) reports.push(await verifyTarget(t));
    return reports;
  }

  /** Breaker and last success of every configured target. */
  async status(): Promise<ReplicaTargetStatus[]> {
    const out: ReplicaTargetStatus[] = [];
    for (const t of this.targets()) {
      const name = replicaLockName(t);
      out.push({
        name,
        replica: t.replica,
        target: t.target,
        path: t.remoteRoot,
        direction: t.direction,
        breaker: breakerHealth((await this.ledger.resilience.readBreaker(name)).record),
        lastSuccess: await this.lastSuccess(t),
      });
    }
    return out;
  }

  /** A target's last successful run (ISO time), or null. */
  async lastSuccess(t: { replica: string; target: string }): Promise<string | null> {
    return (await this.ledger.meta.get(replicaLastSuccessKey(t))) ?? null;
  }

  /** When a scheduled run of the target last started (ISO time), or null. */
  async lastRun(t: { replica: string; target: string }): Promise<string | null> {
    return (await this.ledger.meta.get(replicaLastRunKey(t))) ?? null;
  }

  /** Closes (reset) or isolates a target's breaker by its name (`replica:<replica>:<target>`). */
  async breaker(name: string, action: "reset" | "isolate"): Promise<void> {
    const names = this.targets().map(replicaLockName);
    if (!names.includes(name))
      throw new UsageError(
        `unknown replica target "${name}"; targets: ${names.join(", ") || "(none configured)"}`,
      );
    const b = this.breakerOf(name);
    await (action === "reset" ? b.reset() : b.isolate());
  }
}
