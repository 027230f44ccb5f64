import { Cron } from "croner";
import { ConfigError, errorMessage, isConfigError } from "../errors.js";

/** A job's `schedule:` block as written in the configuration. */
export interface ScheduleConfig {
  every?: string | undefined;
  cron?: string | undefined;
}

/** A validated schedule: a fixed interval after the last success, or a cron expression. */
export type Schedule =
  { kind: "every"; everyMs: number; text: string } | { kind: "cron"; cron: Cron; text: string };

/** No job starts within this long of its last run's start, whatever started it. */
export const MIN_GAP_MS = 60_000;

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

/** "30s", "10m", "2h", "1d" (or a sum such as "1h30m") in ms; null when it is not one. */
export function parseDuration(text: string): number | null {
  const trimmed = text.trim();
  if (!/^(\d+[smhd])+$/.test(trimmed)) return null;
  let ms = 0;
  for (const m of trimmed.matchAll(/(\d+)([smhd])/g)) ms += Number(m[1]) * UNIT_MS[m[2] as Unit];
  return ms > 0 && Number.isSafeInteger(ms) ? ms : null;
}

/** Validates a job's schedule (or a replica target's, under `key`); null when none. Throws ConfigError naming the key. */
export function parseSchedule(
  job: string,
  config: ScheduleConfig | undefined,
  key = `jobs.${job}.schedule`,
): Schedule | null {
  if (config === undefined) return null;
  if (config.every !== undefined && config.cron !== undefined)
    throw new ConfigError(`${key}: give either every or cron, not both`);
  if (config.every !== undefined) {
    const everyMs = parseDuration(config.every);
    if (everyMs === null)
      throw new ConfigError(
        `${key}.every: invalid interval "${config.every}"; use a whole number with s, m, h or d, e.g. 30s, 10m, 2h, 1d`,
      );
    return { kind: "every", everyMs, text: config.every.trim() };
  }
  if (config.cron !== undefined) {
    try {
      return { kind: "cron", cron: new Cron(config.cron.trim()), text: config.cron.trim() };
    } catch (e) {
      throw new ConfigError(`${key}.cron: invalid cron expression "${config.cron}": ${errorMessage(e)}`, e);
    }
  }
  throw new ConfigError(`${key}: needs every (e.g. 10m) or cron (e.g. "0 * * * *")`);
}

/** Every job's schedule (jobs without one are left out); the first bad one throws, prefixed with the file. */
export function parseSchedules(
  jobs: Readonly<Record<string, { schedule?: ScheduleConfig | undefined }>>,
  file?: string,
): Map<string, Schedule> {
  const out = new Map<string, Schedule>();
  for (const [job, config] of Object.entries(jobs)) {
    try {
      const schedule = parseSchedule(job, config.schedule);
      if (schedule) out.set(job, schedule);
    } catch (e) {
      if (file === undefined || !isConfigError(e)) throw e;
      throw new ConfigError(`${file}: ${e.message}`, e.cause);
    }
  }
  return out;
}

/** "every 10m" or "cron 0 * * * *". */
export function describeSchedule(s: Schedule): string {
  return `${s.kind} ${s.text}`;
}

export interface NextRun {
  /** When the job should start: `now` when it is due, Infinity when a cron has no future time. */
  at: number;
  due: boolean;
  /** Why it runs at `at`, for logs. */
  reason: string;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * When a job should next start, from its persisted last success and its last run's start (any trigger).
 * A job that never succeeded is due now; `every` waits for last success + interval; `cron` for the next
 * cron time after the last success (now if that passed); and nothing starts within MIN_GAP_MS of the
 * last run's start. Pure: `now` and the inputs decide.
 */
export function explainNextRun(
  schedule: Schedule,
  lastSuccess: number | null,
  lastRunStart: number | null,
  now: number,
): NextRun {
  let at: number;
  let reason: string;
  if (lastSuccess === null) {
    at = now;
    reason = "it has never completed";
  } else if (schedule.kind === "every") {
    at = lastSuccess + schedule.everyMs;
    reason = `last success ${iso(lastSuccess)} + every ${schedule.text}`;
  } else {
    const next = schedule.cron.nextRun(new Date(lastSuccess));
    at = next ? next.getTime() : Number.POSITIVE_INFINITY;
    reason = next
      ? `cron ${schedule.text}: next time after last success ${iso(lastSuccess)}`
      : `cron ${schedule.text} has no time after ${iso(lastSuccess)}`;
  }
  if (at < now) {
    reason = `${reason} (overdue)`;
    at = now;
  }
  if (lastRunStart !== null && lastRunStart + MIN_GAP_MS > at) {
    at = lastRunStart + MIN_GAP_MS;
    reason = `a run started at ${iso(lastRunStart)}; at least ${MIN_GAP_MS / 1000}s between starts`;
  }
  return { at, due: at <= now, reason };
}

/** When a job should next start (see explainNextRun); due when the result is <= now. */
export function nextRunAt(
  schedule: Schedule,
  lastSuccess: number | null,
  lastRunStart: number | null,
  now: number,
): number {
  return explainNextRun(schedule, lastSuccess, lastRunStart, now).at;
}

export { iso as formatTime };

/** A replica target with a schedule. */
export interface ScheduledTarget {
  replica: string;
  target: string;
  schedule: Schedule;
}

type ReplicasConfig = Readonly<
  Record<string, { targets: readonly { name: string; schedule?: ScheduleConfig | undefined }[] }>
>;

/**
 * Every replica target's schedule, in configuration order (targets without one are left out, unless
 * `defaultEveryMs` gives them one: `orchestrator.sync_interval`); the first bad one throws, prefixed with the file.
 */
export function parseReplicaSchedules(
  replicas: ReplicasConfig,
  file?: string,
  defaultEveryMs?: number,
): ScheduledTarget[] {
  const fallback =
    defaultEveryMs === undefined ? undefined : { every: `${Math.ceil(defaultEveryMs / 1000)}s` };
  const out: ScheduledTarget[] = [];
  for (const [replica, config] of Object.entries(replicas)) {
    config.targets.forEach((t, i) => {
      try {
        const schedule = parseSchedule(
          t.name,
          t.schedule ?? fallback,
          `replicas.${replica}.targets[${i}].schedule`,
        );
        if (schedule) out.push({ replica, target: t.name, schedule });
      } catch (e) {
        if (file === undefined || !isConfigError(e)) throw e;
        throw new ConfigError(`${file}: ${e.message}`, e.cause);
      }
    });
  }
  return out;
}
