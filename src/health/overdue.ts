import { parseReplicaSchedules, parseSchedules, type Schedule } from "../config/schedule.js";
import { lastSuccessKey, replicaLastSuccessKey, replicaLockName } from "../ledger/meta-keys.js";
import type { MetaStore } from "../ledger/meta-store.js";
import { check, type CheckResult } from "./types.js";

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

/** Scheduled jobs whose last success is more than one interval past due (or that never succeeded). */
export async function overdueJobs(
  meta: MetaStore,
  jobs: Readonly<
    Record<string, { schedule?: { every?: string | undefined; cron?: string | undefined } | undefined }>
  >,
  now: number,
): Promise<OverdueJob[]> {
  const out: OverdueJob[] = [];
  for (const [job, schedule] of parseSchedules(jobs)) {
    const o = judge(schedule, await meta.get(lastSuccessKey(job)), now);
    if (o) out.push({ job, ...o });
  }
  return out;
}

/**
 * Scheduled replica targets overdue by the jobs' rule, from their last successful run; `defaultEveryMs`
 * schedules the targets without a schedule of their own (`orchestrator.sync_interval`), as the daemon does.
 */
export async function overdueReplicaTargets(
  meta: MetaStore,
  replicas: ReplicasConfig,
  now: number,
  defaultEveryMs?: number,
): Promise<OverdueTarget[]> {
  const out: OverdueTarget[] = [];
  for (const t of parseReplicaSchedules(replicas, undefined, defaultEveryMs)) {
    const o = judge(t.schedule, await meta.get(replicaLastSuccessKey(t)), now);
    if (o) out.push({ replica: t.replica, target: t.target, ...o });
  }
  return out;
}

const describe = (name: string, o: Overdue): string =>
  `${name} (${o.schedule}; last success ${o.lastSuccess ?? "never"})`;

export async function checkSchedules(
  meta: MetaStore,
  jobs: Parameters<typeof overdueJobs>[1],
  now: number,
  replicas: ReplicasConfig = {},
  defaultEveryMs?: number,
): Promise<CheckResult> {
  const scheduled = parseSchedules(jobs).size;
  const targets = parseReplicaSchedules(replicas, undefined, defaultEveryMs).length;
  const overdue = await overdueJobs(meta, jobs, now);
  const late = await overdueReplicaTargets(meta, replicas, now, defaultEveryMs);
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
