import { explainNextRun, formatTime, type NextRun, type ScheduledTarget } from "../config/schedule.js";
import { errorMessage } from "../errors.js";
import { replicaLockName, type ReplicaService, type TargetReport } from "../service/replica-service.js";
import type { DaemonLogger } from "./log.js";

/** What one pass did with one scheduled replica target. */
export type ReplicaOutcome = { replica: string; target: string; next: NextRun } & (
  | { action: "ran"; report: TargetReport }
  | { action: "skipped"; reason: "not-due" | "locked" | "breaker-open"; message: string }
  | { action: "error"; message: string }
);

const parsed = (stamp: string | null | undefined): number | null => {
  const ms = stamp === null || stamp === undefined ? Number.NaN : Date.parse(stamp);
  return Number.isFinite(ms) ? ms : null;
};

/** When a scheduled target should next replicate: the jobs' rule over its last success and last start. */
export async function replicaNextRun(
  replicas: ReplicaService,
  t: ScheduledTarget,
  now: number,
): Promise<NextRun> {
  const lastSuccess = parsed(await replicas.lastSuccess(t));
  const lastStart = parsed(await replicas.lastRun(t));
  return explainNextRun(t.schedule, lastSuccess, lastStart, now);
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
    private readonly replicas: ReplicaService,
    readonly targets: readonly ScheduledTarget[],
    private readonly now: () => number,
    private readonly logger: DaemonLogger,
  ) {}

  /** Every due target replicates once, in configuration order; the others are skipped. */
  async runDue(signal: AbortSignal): Promise<ReplicaOutcome[]> {
    const outcomes: ReplicaOutcome[] = [];
    for (const t of this.targets) {
      if (signal.aborted) break;
      const next = await replicaNextRun(this.replicas, t, this.now());
      if (next.due) {
        outcomes.push(await this.run(t, next, signal));
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

  private async run(t: ScheduledTarget, due: NextRun, signal: AbortSignal): Promise<ReplicaOutcome> {
    const label = replicaLockName(t);
    const ids = { replica: t.replica, target: t.target };
    this.logged.delete(label);
    this.logger.info(
      { event: "replica:start", ...ids, reason: due.reason },
      `${label}: replicating (${due.reason})`,
    );
    try {
      const { targets } = await this.replicas.replicate({
        replica: t.replica,
        target: t.target,
        scheduled: true,
        signal,
      });
      const report = targets[0];
      if (!report) throw new Error(`target ${t.target} is no longer configured`);
      const next = await replicaNextRun(this.replicas, t, this.now());
      return this.logReport(t, report, next);
    } catch (e) {
      const next = await replicaNextRun(this.replicas, t, this.now());
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
