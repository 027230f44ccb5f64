import {
  explainNextRun,
  formatTime,
  MIN_GAP_MS,
  parseReplicaSchedules,
  parseSchedules,
  type NextRun,
  type Schedule,
} from "../config/schedule.js";
import { healthSettings } from "../config/health.js";
import { errorMessage, isLockedError, UsageError } from "../errors.js";
import type { Services } from "../service/open-services.js";
import { replicaLockName } from "../service/replica-service.js";
import type { SyncResult } from "../service/types.js";
import type { DaemonLogger } from "./log.js";
import { ReplicaScheduler, type ReplicaOutcome } from "./replica-schedule.js";

/** Time as the daemon sees it; tests pass a fake one. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    }),
};

const silentLogger: DaemonLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** The longest single sleep: the daemon re-reads the ledger at least this often. */
export const MAX_SLEEP_MS = 5 * 60_000;

/** What one pass did with one scheduled job. */
export type JobOutcome =
  | { job: string; action: "ran"; result: SyncResult; next: NextRun }
  | { job: string; action: "skipped"; reason: "not-due" | "locked"; message: string; next: NextRun }
  | { job: string; action: "error"; message: string; next: NextRun };

/** What one pass did with one scheduled job or replica target. */
export type PassOutcome = JobOutcome | ReplicaOutcome;

/** A job's name, or a replica target's lock name (`replica:<name>:<target>`), for logs. */
export const outcomeLabel = (o: PassOutcome): string => ("job" in o ? o.job : replicaLockName(o));

export interface DaemonOptions {
  clock?: Clock;
  logger?: DaemonLogger;
  /** How often the loop runs doctor's checks and safe repairs (default `health.interval`, 5m; 0: never). */
  healthEveryMs?: number;
}

const isAborted = (signal: AbortSignal): boolean => signal.aborted;
const when = (at: number): string => (Number.isFinite(at) ? formatTime(at) : "never");

function counts(
  result: SyncResult,
): Record<"total" | "completed" | "skipped" | "failed" | "dead" | "pending", number> {
  const sum = { total: 0, completed: 0, skipped: 0, failed: 0, dead: 0, pending: 0 };
  for (const p of result.phases) {
    sum.total += p.total;
    sum.completed += p.completed;
    sum.skipped += p.skipped;
    sum.failed += p.failed;
    sum.dead += p.dead;
    sum.pending += p.pending;
  }
  return sum;
}

/**
 * Runs each scheduled job (then each scheduled replica target) when it is due. Due-ness is derived from
 * the ledger (the job's persisted last success and its last run's start), so a run by the CLI, MCP or
 * library resets the timer and a restart keeps it. Jobs run one at a time through SyncService with
 * trigger "daemon" and no waiting for locks.
 */
export class Daemon {
  readonly schedules: ReadonlyMap<string, Schedule>;
  /** The scheduled replica targets, replicated after the jobs of each pass. */
  readonly replicas: ReplicaScheduler;
  private readonly clock: Clock;
  private readonly logger: DaemonLogger;
  /** When this daemon last tried each job: a refused attempt leaves no run behind, yet counts for the gap. */
  private readonly attempts = new Map<string, number>();
  /** The last wait logged per job, so an unchanged one is not logged on every pass. */
  private readonly logged = new Map<string, string>();
  private lastIdle = "";
  private readonly healthEveryMs: number;
  private nextHealth = Number.NEGATIVE_INFINITY;

  constructor(
    readonly services: Services,
    options: DaemonOptions = {},
  ) {
    const { loaded } = services.sync;
    this.schedules = parseSchedules(loaded.config.jobs, loaded.file);
    this.clock = options.clock ?? realClock;
    this.logger = options.logger ?? silentLogger;
    this.healthEveryMs = options.healthEveryMs ?? healthSettings(loaded.config, loaded.file).intervalMs;
    const targets = parseReplicaSchedules(
      loaded.config.replicas,
      loaded.file,
      healthSettings(loaded.config, loaded.file).replicaEveryMs,
    );
    this.replicas = new ReplicaScheduler(services.replicas, targets, () => this.clock.now(), this.logger);
  }

  private get service() {
    return this.services.sync;
  }

  /**
   * doctor's checks and its safe repairs through this daemon's service: prune backups and temp files,
   * reclaim stale locks, requeue expired leases, checkpoint/optimize/VACUUM. It neither starts syncs
   * (the schedule does) nor restores the database (this process holds it open); those are logged for
   * a person (`syncwarden doctor --repair`).
   */
  async healthPass(): Promise<void> {
    const report = await this.services.health.run({
      repair: true,
      startSyncs: false,
      restore: false,
      now: () => this.clock.now(),
    });
    for (const r of report.repairs) {
      const fields = { event: "doctor:repair", repair: r.name, ok: r.ok };
      if (r.ok) this.logger.info(fields, `doctor: ${r.name}: ${r.message}`);
      else this.logger.warn(fields, `doctor: ${r.name}: ${r.message}`);
    }
    for (const c of report.checks) {
      if (c.status === "ok") continue;
      const fields = { event: "doctor:check", check: c.name, status: c.status };
      const message = `doctor: ${c.name} ${c.status}: ${c.message}`;
      if (c.status === "critical") this.logger.error(fields, message);
      else this.logger.warn(fields, message);
    }
    await this.services.alerts
      .evaluate(report.checks)
      .catch((e: unknown) =>
        this.logger.warn(
          { event: "alerts:error", err: { message: errorMessage(e) } },
          `alerts: ${errorMessage(e)}`,
        ),
      );
    const bad = report.checks.filter((c) => c.status !== "ok").length;
    this.logger.info(
      { event: "doctor", checks: report.checks.length, problems: bad, repairs: report.repairs.length },
      `doctor: ${report.checks.length - bad}/${report.checks.length} checks ok, ${report.repairs.length} repairs`,
    );
  }

  /** Jobs of the configuration without a schedule (the daemon leaves them alone). */
  unscheduled(): string[] {
    return this.service.jobNames().filter((j) => !this.schedules.has(j));
  }

  /** When a scheduled job should next start, from the ledger and the clock. */
  async nextRun(job: string): Promise<NextRun> {
    const schedule = this.schedules.get(job);
    if (!schedule) throw new UsageError(`job "${job}" has no schedule`);
    const facts = await this.service.scheduleFacts(job);
    const starts = [facts.lastStart, this.attempts.get(job)].filter((t) => t !== undefined && t !== null);
    return explainNextRun(
      schedule,
      facts.lastSuccess,
      starts.length > 0 ? Math.max(...starts) : null,
      this.clock.now(),
    );
  }

  /**
   * One pass: every scheduled job that is due runs once, in configuration order, then every due replica
   * target; the others are skipped.
   */
  async runOnce(signal: AbortSignal = new AbortController().signal): Promise<PassOutcome[]> {
    const outcomes: PassOutcome[] = [];
    for (const job of this.schedules.keys()) {
      if (signal.aborted) break;
      const next = await this.nextRun(job);
      if (next.due) {
        outcomes.push(await this.runJob(job, next, signal));
        continue;
      }
      const message = `${job}: not due; next run at ${when(next.at)} (${next.reason})`;
      if (this.logged.get(job) !== message) {
        this.logged.set(job, message);
        this.logger.info({ event: "job:skip", job, reason: next.reason, nextRunAt: when(next.at) }, message);
      }
      outcomes.push({ job, action: "skipped", reason: "not-due", message, next });
    }
    outcomes.push(...(await this.replicas.runDue(signal)));
    return outcomes;
  }

  /** Loops until the signal aborts: a pass, then sleep until the earliest next run (waking at once on abort). */
  async start(signal: AbortSignal): Promise<void> {
    const alerts = this.services.alerts.watch();
    signal.addEventListener("abort", () => alerts.dispose(), { once: true });
    while (!signal.aborted) {
      let wake: number;
      try {
        const outcomes = await this.runOnce(signal);
        // (read through a call: the pass may have aborted it)
        if (isAborted(signal)) break;
        const soonest = outcomes.reduce<PassOutcome | undefined>(
          (a, o) => (a === undefined || o.next.at < a.next.at ? o : a),
          undefined,
        );
        wake = soonest?.next.at ?? Number.POSITIVE_INFINITY;
        if (this.healthEveryMs > 0) {
          if (this.clock.now() >= this.nextHealth) {
            this.nextHealth = this.clock.now() + this.healthEveryMs;
            await this.healthPass().catch((e: unknown) =>
              this.logger.error(
                { event: "error", err: { message: errorMessage(e) } },
                `doctor: health pass failed: ${errorMessage(e)}`,
              ),
            );
          }
          wake = Math.min(wake, this.nextHealth);
        }
        const next = soonest && outcomeLabel(soonest);
        const message = `idle until ${when(wake)}${next === undefined ? "" : ` (next: ${next})`}`;
        if (message !== this.lastIdle) {
          this.lastIdle = message;
          this.logger.info({ event: "idle", until: when(wake), job: next }, message);
        }
      } catch (e) {
        wake = this.clock.now() + MIN_GAP_MS;
        this.logger.error(
          { event: "error", err: { message: errorMessage(e) } },
          `scheduling pass failed: ${errorMessage(e)}; trying again at ${when(wake)}`,
        );
      }
      await this.clock.sleep(Math.min(MAX_SLEEP_MS, Math.max(0, wake - this.clock.now())), signal);
    }
  }

  private async runJob(job: string, due: NextRun, signal: AbortSignal): Promise<JobOutcome> {
    this.attempts.set(job, this.clock.now());
    this.logged.delete(job);
    this.logger.info({ event: "job:start", job, reason: due.reason }, `${job}: starting run (${due.reason})`);
    try {
      const result = await this.service.execute({ job, trigger: "daemon", signal, options: { wait: false } });
      const next = await this.nextRun(job);
      const c = counts(result);
      const message =
        `${job}: ${result.status} in ${result.durationSeconds}s: ${c.total} items, ${c.completed} completed, ` +
        `${c.skipped} skipped, ${c.failed} failed, ${c.dead} dead, ${c.pending} pending` +
        (result.degradation === "full" ? "" : `, degradation ${result.degradation}`) +
        (result.error ? `: ${result.error.message}` : "") +
        `; next run at ${when(next.at)}`;
      const fields = {
        event: "job:end",
        job,
        runId: result.runId,
        status: result.status,
        degradation: result.degradation,
        durationSeconds: result.durationSeconds,
        counts: c,
        ...(result.error ? { err: result.error } : {}),
        nextRunAt: when(next.at),
      };
      if (result.status === "failed") this.logger.error(fields, message);
      else if (result.status === "completed" && result.degradation === "full")
        this.logger.info(fields, message);
      else this.logger.warn(fields, message);
      return { job, action: "ran", result, next };
    } catch (e) {
      const next = await this.nextRun(job);
      if (isLockedError(e)) {
        const message = `${job}: skipped, another runner holds it (${e.message}); next try at ${when(next.at)}`;
        this.logger.warn({ event: "job:skip", job, reason: "locked", nextRunAt: when(next.at) }, message);
        return { job, action: "skipped", reason: "locked", message, next };
      }
      const message = `${job}: run could not start: ${errorMessage(e)}; next try at ${when(next.at)}`;
      this.logger.error(
        { event: "job:error", job, err: { message: errorMessage(e) }, nextRunAt: when(next.at) },
        message,
      );
      return { job, action: "error", message, next };
    }
  }
}
