import type Database from "better-sqlite3";
import {
  parseReplicaSchedules,
  replicateScheduled,
  type ScheduledTarget,
} from "../daemon/replica-schedule.js";
import { parseSchedules, type Schedule } from "../daemon/schedule.js";
import { replicaLastSuccessKey, replicaLockName } from "../replicas/replicate.js";
import { LAST_SUCCESS_KEY, type SyncService } from "../service/sync-service.js";
import { check, type CheckResult, type RepairResult } from "./types.js";

interface Overdue {
  schedule: string;
  lastSuccess: string | null;
  /** When it became overdue (one interval after it was due). */
  overdueSince: string | null;
}

export type OverdueJob = Overdue & { job: string };
export type OverdueTarget = Overdue & { replica: string; target: string };

type ReplicasConfig = Parameters<typeof parseReplicaSchedules>[0];

/** When a job is overdue: one interval past its due time (every: success + 2×interval; cron: the second cron time after success). */
function overdueAt(s: Schedule, lastSuccess: number): number {
  if (s.kind === "every") return lastSuccess + 2 * s.everyMs;
  const first = s.cron.nextRun(new Date(lastSuccess));
  const second = first ? s.cron.nextRun(first) : null;
  return second ? second.getTime() : Number.POSITIVE_INFINITY;
}

/** Overdue (never succeeded, or more than one interval past due), or null when on time. */
function judge(schedule: Schedule, raw: string | undefined, now: number): Overdue | null {
  const last = raw === undefined ? null : Date.parse(raw);
  const text = `${schedule.kind} ${schedule.text}`;
  if (last === null || !Number.isFinite(last))
    return { schedule: text, lastSuccess: null, overdueSince: null };
  const at = overdueAt(schedule, last);
  if (at >= now) return null;
  return {
    schedule: text,
    lastSuccess: new Date(last).toISOString(),
    overdueSince: new Date(at).toISOString(),
  };
}

const metaReader = (db: Database.Database): ((key: string) => string | undefined) => {
  const meta = db.prepare<[string], { value: string }>("SELECT value FROM metadata WHERE key = ?");
  return (key) => meta.get(key)?.value;
};

/** Scheduled jobs whose last success is more than one interval past due (or that never succeeded). */
export function overdueJobs(
  db: Database.Database,
  jobs: Readonly<
    Record<string, { schedule?: { every?: string | undefined; cron?: string | undefined } | undefined }>
  >,
  now: number,
): OverdueJob[] {
  const meta = metaReader(db);
  return [...parseSchedules(jobs)].flatMap(([job, schedule]) => {
    const o = judge(schedule, meta(LAST_SUCCESS_KEY(job)), now);
    return o ? [{ job, ...o }] : [];
  });
}

/** Scheduled replica targets overdue by the jobs' rule, from their last successful run. */
export function overdueReplicaTargets(
  db: Database.Database,
  replicas: ReplicasConfig,
  now: number,
): OverdueTarget[] {
  const meta = metaReader(db);
  return parseReplicaSchedules(replicas).flatMap((t: ScheduledTarget) => {
    const o = judge(t.schedule, meta(replicaLastSuccessKey(t)), now);
    return o ? [{ replica: t.replica, target: t.target, ...o }] : [];
  });
}

const describe = (name: string, o: Overdue): string =>
  `${name} (${o.schedule}; last success ${o.lastSuccess ?? "never"})`;

export function checkSchedules(
  db: Database.Database,
  jobs: Parameters<typeof overdueJobs>[1],
  now: number,
  replicas: ReplicasConfig = {},
): CheckResult {
  const scheduled = parseSchedules(jobs).size;
  const targets = parseReplicaSchedules(replicas).length;
  const overdue = overdueJobs(db, jobs, now);
  const late = overdueReplicaTargets(db, replicas, now);
  if (overdue.length === 0 && late.length === 0) {
    const what = targets === 0 ? "" : ` and ${targets} scheduled replica targets`;
    return check(
      "schedules",
      "ok",
      scheduled === 0 && targets === 0 ? "no scheduled jobs" : `${scheduled} scheduled jobs${what} on time`,
      { scheduled, ...(targets === 0 ? {} : { scheduledTargets: targets }) },
    );
  }
  const parts = [
    ...(overdue.length === 0
      ? []
      : [`${overdue.length} jobs overdue: ${overdue.map((o) => describe(o.job, o)).join(", ")}`]),
    ...(late.length === 0
      ? []
      : [
          `${late.length} replica targets overdue: ${late.map((o) => describe(replicaLockName(o), o)).join(", ")}`,
        ]),
  ];
  return check("schedules", "warning", parts.join("; "), {
    scheduled,
    overdue,
    ...(targets === 0 ? {} : { scheduledTargets: targets, overdueTargets: late }),
  });
}

/** doctor --repair: replicates an overdue target now (stamping its start, as the daemon does). */
export async function startReplication(
  service: SyncService,
  t: OverdueTarget,
  now: number,
): Promise<RepairResult> {
  const r = await replicateScheduled(service, t, now, () => undefined);
  const outcome =
    r.status === "ok"
      ? `ok, ${r.copied} copied, ${r.deleted} deleted, ${r.conflicts.length} conflicts, ${r.errors.length} errors`
      : `${r.status}${r.message === undefined ? "" : ` (${r.message})`}`;
  return {
    name: "start-replication",
    ok: r.status === "ok",
    message: `replicated overdue target ${replicaLockName(t)} (last success ${t.lastSuccess ?? "never"}): ${outcome}`,
    details: { replica: t.replica, target: t.target, status: r.status, copied: r.copied, deleted: r.deleted },
  };
}
