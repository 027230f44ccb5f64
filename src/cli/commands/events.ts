import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { positiveInt } from "../flags.js";

interface EventsFlags extends GlobalOptions {
  since?: string;
  limit?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("events")
    .description("the event log: runs, phases, progress, locks, breakers and rate gates, errors")
    .argument("[job]")
    .option("--since <time>", "from this time: an ISO date or a duration back (15m, 2h, 7d)")
    .option("--limit <n>", "at most n events (the newest)", "200")
    .option("--json", "print as JSON on stdout")
    .action(
      act((job: string | undefined, _o: unknown, cmd: Command) =>
        eventsCommand(job, globalsOf<EventsFlags>(cmd)),
      ),
    );
}

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
async function eventsCommand(job: string | undefined, opts: EventsFlags): Promise<number> {
  const since = opts.since === undefined ? undefined : parseSince(opts.since);
  const limit = positiveInt("--limit", opts.limit, 200);
  return withServices({ ...opts, jobs: [job] }, async ({ sync }) => {
    const events = await sync.eventLog({
      ...(job ? { job } : {}),
      ...(since !== undefined ? { since } : {}),
      limit,
    });
    if (opts.json) printJson(events.map((e) => ({ ...e, time: new Date(e.ts).toISOString() })));
    else
      for (const e of events)
        process.stdout.write(
          `${new Date(e.ts).toISOString()} ${e.level.toUpperCase().padEnd(5)} ${e.job ?? "-"} ${e.message}\n`,
        );
    return 0;
  });
}
