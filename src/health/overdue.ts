import type Database from "better-sqlite3";
import { parseSchedules, type Schedule } from "../daemon/schedule.js";
import { LAST_SUCCESS_KEY } from "../service/sync-service.js";
import { check, type CheckResult } from "./types.js";

export interface OverdueJob {
  job: string;
  schedule: string;
  lastSuccess: string | null;
  /** When the job became overdue (one interval after it was due). */
  overdueSince: string | null;
}

/** When a job is overdue: one interval past its due time (every: success + 2×interval; cron: the second cron time after success). */
function overdueAt(s: Schedule, lastSuccess: number): number {
  if (s.kind === "every") return lastSuccess + 2 * s.everyMs;
  const first = s.cron.nextRun(new Date(lastSuccess));
  const second = first ? s.cron.nextRun(first) : null;
  return second ? second.getTime() : Number.POSITIVE_INFINITY;
}

/** Scheduled jobs whose last success is more than one interval past due (or that never succeeded). */
export function overdueJobs(
  db: Database.Database,
  jobs: Readonly<
    Record<string, { schedule?: { every?: string | undefined; cron?: string | undefined } | undefined }>
  >,
  now: number,
): OverdueJob[] {
  const meta = db.prepare<[string], { value: string }>("SELECT value FROM metadata WHERE key = ?");
  const out: OverdueJob[] = [];
  for (const [job, schedule] of parseSchedules(jobs)) {
    const raw = meta.get(LAST_SUCCESS_KEY(job))?.value;
    const last = raw === undefined ? null : Date.parse(raw);
    const entry = { job, schedule: `${schedule.kind} ${schedule.text}` };
    if (last === null || !Number.isFinite(last)) {
      out.push({ ...entry, lastSuccess: null, overdueSince: null });
      continue;
    }
    const at = overdueAt(schedule, last);
    if (at < now)
      out.push({
        ...entry,
        lastSuccess: new Date(last).toISOString(),
        overdueSince: new Date(at).toISOString(),
      });
  }
  return out;
}

export function checkSchedules(
  db: Database.Database,
  jobs: Parameters<typeof overdueJobs>[1],
  now: number,
): CheckResult {
  const scheduled = parseSchedules(jobs).size;
  const overdue = overdueJobs(db, jobs, now);
  if (overdue.length === 0)
    return check(
      "schedules",
      "ok",
      scheduled === 0 ? "no scheduled jobs" : `${scheduled} scheduled jobs on time`,
      {
        scheduled,
      },
    );
  const text = overdue
    .map((o) => `${o.job} (${o.schedule}; last success ${o.lastSuccess ?? "never"})`)
    .join(", ");
  return check("schedules", "warning", `${overdue.length} jobs overdue: ${text}`, { scheduled, overdue });
}
