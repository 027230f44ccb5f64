import { UsageError } from "../../errors.js";
import type { SyncResult } from "../../service/types.js";
import { printJson, withService, type GlobalOptions } from "../context.js";

/** A time for --since: an ISO date/time, or a duration back from now (30s, 15m, 2h, 7d). */
export function parseSince(value: string, now = Date.now()): number {
  const rel = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(value.trim());
  if (rel)
    return (
      now -
      Number(rel[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as "s" | "m" | "h" | "d"]
    );
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new UsageError(
      `--since must be a date (2026-11-27T10:00) or a duration (15m, 2h, 7d), got "${value}"`,
    );
  return t;
}

/** `syncwarden events [JOB] [--since T]`: the event log, oldest first. */
export async function eventsCommand(
  job: string | undefined,
  opts: GlobalOptions & { since?: string; limit?: string; json?: boolean },
): Promise<number> {
  const since = opts.since === undefined ? undefined : parseSince(opts.since);
  const limit = Number(opts.limit ?? "200");
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive integer, got "${opts.limit ?? ""}"`);
  return withService(opts, async (service) => {
    const events = await service.ledger.listEvents({
      ...(job ? { job } : {}),
      ...(since !== undefined ? { since } : {}),
      limit,
    });
    if (opts.json) {
      printJson(events.map((e) => ({ ...e, time: new Date(e.ts).toISOString() })));
    } else {
      for (const e of events) {
        process.stdout.write(
          `${new Date(e.ts).toISOString()} ${e.level.toUpperCase().padEnd(5)} ${e.job ?? "-"} ${e.message}\n`,
        );
      }
    }
    return 0;
  });
}

/** `syncwarden history [JOB]`: runs with their results, newest first. */
export async function historyCommand(
  job: string | undefined,
  opts: GlobalOptions & { limit?: string; json?: boolean },
): Promise<number> {
  const limit = Number(opts.limit ?? "20");
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive integer, got "${opts.limit ?? ""}"`);
  return withService(opts, async (service) => {
    const runs = await service.ledger.listRuns(job, limit);
    if (opts.json) {
      printJson(
        runs.map((r) => ({
          runId: r.id,
          job: r.job,
          trigger: r.trigger,
          status: r.status ?? "running",
          startedAt: new Date(r.startedAt).toISOString(),
          finishedAt: r.finishedAt === null ? null : new Date(r.finishedAt).toISOString(),
          result: r.result,
        })),
      );
    } else {
      for (const r of runs) {
        const res = r.result as SyncResult | null;
        const counts = res ? res.phases.map((p) => `${p.name} ${p.completed}/${p.total}`).join(", ") : "";
        process.stdout.write(
          `${new Date(r.startedAt).toISOString()} ${r.job} ${r.trigger} ${r.status ?? "running"}${res ? ` ${res.durationSeconds}s ${res.degradation}` : ""}${counts ? ` (${counts})` : ""}\n`,
        );
      }
    }
    return 0;
  });
}
