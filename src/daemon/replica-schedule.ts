import { ConfigError, errorMessage } from "../errors.js";
import type { Ledger } from "../ledger/ledger.js";
import { replicaLastSuccess, replicaLockName, replicate, resolveTargets } from "../replicas/replicate.js";
import { emptyReport, type TargetReport } from "../replicas/run-target.js";
import type { SyncService } from "../service/sync-service.js";
import type { DaemonLogger } from "./log.js";
import {
  explainNextRun,
  formatTime,
  parseSchedule,
  type NextRun,
  type Schedule,
  type ScheduleConfig,
} from "./schedule.js";

/** A replica target with a schedule. */
export interface ScheduledTarget {
  replica: string;
  target: string;
  schedule: Schedule;
}

/** What one pass did with one scheduled replica target. */
export type ReplicaOutcome = { replica: string; target: string; next: NextRun } & (
  | { action: "ran"; report: TargetReport }
  | { action: "skipped"; reason: "not-due" | "locked" | "breaker-open"; message: string }
  | { action: "error"; message: string }
);

type ReplicasConfig = Readonly<
  Record<string, { targets: readonly { name: string; schedule?: ScheduleConfig | undefined }[] }>
>;

/**
 * Every replica target's schedule, in configuration order (targets without one are left out); the first
 * bad one throws, prefixed with the file.
 */
export function parseReplicaSchedules(replicas: ReplicasConfig, file?: string): ScheduledTarget[] {
  const out: ScheduledTarget[] = [];
  for (const [replica, config] of Object.entries(replicas)) {
    config.targets.forEach((t, i) => {
      try {
        const schedule = parseSchedule(t.name, t.schedule, `replicas.${replica}.targets[${i}].schedule`);
        if (schedule) out.push({ replica, target: t.name, schedule });
      } catch (e) {
        if (file === undefined || !(e instanceof ConfigError)) throw e;
        throw new ConfigError(`${file}: ${e.message}`, e.cause);
      }
    });
  }
  return out;
}

/** The ledger meta key holding the ISO time a scheduled (daemon or doctor) run of the target last started. */
export const replicaLastRunKey = (t: { replica: string; target: string }): string =>
  `last_run:${replicaLockName(t)}`;

const parsed = (stamp: string | null | undefined): number | null => {
  const ms = stamp === null || stamp === undefined ? Number.NaN : Date.parse(stamp);
  return Number.isFinite(ms) ? ms : null;
};

/** When a scheduled target should next replicate: the jobs' rule over its last success and last start. */
export async function replicaNextRun(ledger: Ledger, t: ScheduledTarget, now: number): Promise<NextRun> {
  const lastSuccess = parsed(await replicaLastSuccess(ledger, t));
  const lastStart = parsed(await ledger.getMeta(replicaLastRunKey(t)));
  return explainNextRun(t.schedule, lastSuccess, lastStart, now);
}

/** Replicates one target now, first stamping its start so a failing target waits MIN_GAP_MS to retry. */
export async function replicateScheduled(
  service: Pick<SyncService, "ledger" | "owner" | "loaded">,
  t: { replica: string; target: string },
  now: number,
  log: (line: string) => void,
): Promise<TargetReport> {
  await service.ledger.setMeta(replicaLastRunKey(t), new Date(now).toISOString());
  const targets = resolveTargets(service.loaded, t.replica).filter((r) => r.target === t.target);
  const [report] = await replicate(
    service.ledger,
    service.owner,
    targets,
    { dryRun: false, force: false },
    log,
  );
  return report ?? emptyReport(t, "error", `target ${t.target} is no longer configured`);
}

const when = (at: number): string => (Number.isFinite(at) ? formatTime(at) : "never");

function describeReport(r: TargetReport): string {
  if (r.status !== "ok") return `${r.status}${r.message === undefined ? "" : `: ${r.message}`}`;
  return `ok: ${r.copied} copied, ${r.deleted} deleted, ${r.conflicts.length} conflicts, ${r.errors.length} errors`;
}

/** Runs the daemon's scheduled replica targets when due, one at a time; a target's failure is logged, never thrown. */
export class ReplicaScheduler {
  /** The last wait logged per target, so an unchanged one is not logged on every pass. */
  private readonly logged = new Map<string, string>();

  constructor(
    private readonly service: SyncService,
    readonly targets: readonly ScheduledTarget[],
    private readonly now: () => number,
    private readonly logger: DaemonLogger,
  ) {}

  /** Every due target replicates once, in configuration order; the others are skipped. */
  async runDue(signal: AbortSignal): Promise<ReplicaOutcome[]> {
    const outcomes: ReplicaOutcome[] = [];
    for (const t of this.targets) {
      if (signal.aborted) break;
      const next = await replicaNextRun(this.service.ledger, t, this.now());
      if (next.due) {
        outcomes.push(await this.run(t, next));
        continue;
      }
      const label = replicaLockName(t);
      const message = `${label}: not due; next run at ${when(next.at)} (${next.reason})`;
      if (this.logged.get(label) !== message) {
        this.logged.set(label, message);
        this.logger.info(
          {
            event: "replica:skip",
            replica: t.replica,
            target: t.target,
            reason: next.reason,
            nextRunAt: when(next.at),
          },
          message,
        );
      }
      outcomes.push({
        replica: t.replica,
        target: t.target,
        action: "skipped",
        reason: "not-due",
        message,
        next,
      });
    }
    return outcomes;
  }

  private async run(t: ScheduledTarget, due: NextRun): Promise<ReplicaOutcome> {
    const label = replicaLockName(t);
    const ids = { replica: t.replica, target: t.target };
    this.logged.delete(label);
    this.logger.info(
      { event: "replica:start", ...ids, reason: due.reason },
      `${label}: replicating (${due.reason})`,
    );
    try {
      const report = await replicateScheduled(this.service, t, this.now(), (line) =>
        this.logger.warn({ event: "breaker", ...ids }, line),
      );
      const next = await replicaNextRun(this.service.ledger, t, this.now());
      return this.logReport(t, report, next);
    } catch (e) {
      const next = await replicaNextRun(this.service.ledger, t, this.now());
      const message = `${label}: run could not start: ${errorMessage(e)}; next try at ${when(next.at)}`;
      this.logger.error(
        { event: "replica:error", ...ids, err: { message: errorMessage(e) }, nextRunAt: when(next.at) },
        message,
      );
      return { ...ids, action: "error", message, next };
    }
  }

  private logReport(t: ScheduledTarget, report: TargetReport, next: NextRun): ReplicaOutcome {
    const ids = { replica: t.replica, target: t.target };
    const label = replicaLockName(t);
    if (report.status === "locked" || report.status === "skipped") {
      const reason = report.status === "locked" ? "locked" : "breaker-open";
      const message = `${label}: skipped (${report.message ?? reason}); next try at ${when(next.at)}`;
      this.logger.warn({ event: "replica:skip", ...ids, reason, nextRunAt: when(next.at) }, message);
      return { ...ids, action: "skipped", reason, message, next };
    }
    const message = `${label}: ${describeReport(report)}; next run at ${when(next.at)}`;
    const fields = {
      event: "replica:run",
      ...ids,
      status: report.status,
      copied: report.copied,
      deleted: report.deleted,
      conflicts: report.conflicts.length,
      errors: report.errors.length,
      ...(report.message === undefined ? {} : { err: { message: report.message } }),
      nextRunAt: when(next.at),
    };
    if (report.status !== "ok") this.logger.error(fields, message);
    else if (report.errors.length > 0 || report.conflicts.length > 0) this.logger.warn(fields, message);
    else this.logger.info(fields, message);
    return { ...ids, action: "ran", report, next };
  }
}
