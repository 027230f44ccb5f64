import { createInterface } from "node:readline/promises";
import { Option, type Command } from "commander";
import { MAX_TIMER_SECONDS } from "../../config/durations.js";
import { UsageError } from "../../errors.js";
import type { SyncService } from "../../service/sync-service.js";
import type { SyncResult } from "../../service/types.js";
import {
  act,
  globalsOf,
  loadGlobalConfig,
  printJson,
  withServices,
  type GlobalOptions,
  type Preflight,
} from "../context.js";
import { exitCodeForResults, EXIT } from "../exit-codes.js";
import { commandHelpText } from "../help-text.js";
import { createRenderer } from "../progress-renderer.js";

export function register(program: Command): void {
  program
    .command("run")
    .description("sync jobs (all of them, or those named): plan, record, process, move checkpoints")
    .addHelpText("after", commandHelpText("run"))
    .argument("[jobs...]", "jobs to run, in order")
    .option("--force", "ignore fingerprints and reprocess every item")
    .addOption(
      new Option("--phase <name>", "run only this phase (repeatable)").argParser(
        (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
      ),
    )
    .option("--incremental-only", "run only phases marked incremental")
    .option("--ids <a,b>", "only these item keys (a scoped run: the job's main checkpoint does not move)")
    .option(
      "--since <value>",
      "only what changed since V (scoped): a commit for git sources; an ISO time, number or duration back (7d) for http-json",
    )
    .option("--nuke", "delete the job's ledger state and documents, then sync from scratch (asks, or --yes)")
    .option("--yes", "confirm --nuke without asking")
    .option("--wait <seconds>", "wait this long for another runner of the job (default 30), then exit 75")
    .option("--no-wait", "fail at once (exit 75) when another runner holds the job")
    .option("--json", "print the SyncResult as JSON on stdout")
    .option("-v, --verbose", "report every failed attempt, not only dead items")
    .action(act((jobs: string[], _o: unknown, cmd: Command) => runCommand(jobs, globalsOf<RunOptions>(cmd))));
}

export interface RunOptions extends GlobalOptions {
  force?: boolean;
  json?: boolean;
  verbose?: boolean;
  phase?: string[];
  incrementalOnly?: boolean;
  ids?: string;
  since?: string;
  nuke?: boolean;
  yes?: boolean;
  /** Seconds to wait for another runner; false with --no-wait. */
  wait?: string | boolean;
}

function parseWait(w: string | boolean | undefined): number | false {
  if (w === false) return false;
  if (w === undefined || w === true) return 30;
  const n = Number(w);
  if (w.trim() === "" || !Number.isFinite(n) || n < 0 || n > MAX_TIMER_SECONDS)
    throw new UsageError(`--wait must be a number of seconds from 0 to ${MAX_TIMER_SECONDS}, got "${w}"`);
  return n;
}

/**
 * `--since` checked against every job it applies to before the ledger is opened, so a bad one writes
 * nothing; the value to run with (a duration becomes an ISO time for http-json sources).
 */
async function checkedSince(jobs: string[], opts: RunOptions, since: string): Promise<string> {
  const loaded = loadGlobalConfig(opts);
  const { checkSince } = await import("../../service/scope.js");
  let value = since;
  for (const name of jobs.length > 0 ? jobs : Object.keys(loaded.config.jobs)) {
    const job = loaded.config.jobs[name];
    if (!job) continue; // an unknown job is refused by the service, with the list of jobs
    const phases = job.phases.filter(
      (p) => (!opts.phase?.length || opts.phase.includes(p.name)) && (!opts.incrementalOnly || p.incremental),
    );
    if (phases.length > 0) value = await checkSince(value, name, phases, loaded.baseDir);
  }
  return value;
}

/** "Current data: 6 products, 724 tests": what --nuke would delete, per phase. */
async function currentData(service: SyncService, job: string): Promise<string> {
  const [status] = await service.status(job);
  const parts = (status?.phases ?? []).map((p) => `${(p.documents ?? 0).toLocaleString("en-US")} ${p.name}`);
  return `Current data: ${parts.join(", ")}`;
}

async function confirmNuke(service: SyncService, jobs: string[], yes: boolean): Promise<void> {
  for (const job of jobs)
    process.stderr.write(
      `${job}: --nuke deletes its ledger state and documents. ${await currentData(service, job)}\n`,
    );
  if (yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new UsageError("--nuke needs --yes when there is no terminal to confirm on");
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(
      `Type the job name${jobs.length > 1 ? "s" : ""} (${jobs.join(" ")}) to confirm: `,
    );
    if (answer.trim() !== jobs.join(" ")) throw new UsageError("not confirmed; nothing was deleted");
  } finally {
    rl.close();
  }
}

/** `syncwarden run [JOB...]`: every job (or those named) in order; SIGINT/SIGTERM stop cleanly with 130. */
export async function runCommand(jobs: string[], opts: RunOptions): Promise<number> {
  const wait = parseWait(opts.wait);
  const ids = opts.ids
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (opts.ids !== undefined && !ids?.length)
    throw new UsageError("--ids needs at least one id, e.g. --ids 12,15");
  if (opts.since !== undefined && opts.since.trim() === "")
    throw new UsageError(
      "--since needs a value: a commit for git sources, an ISO time or a duration (e.g. 2026-11-01, 7d) for http-json",
    );
  if (opts.nuke && (ids || opts.since))
    throw new UsageError("--nuke cannot be combined with --ids or --since");
  const since = opts.since === undefined ? undefined : await checkedSince(jobs, opts, opts.since);
  return withServices({ ...opts, ...preflight(jobs, opts.phase) }, async ({ sync: service }) => {
    const names = jobs.length > 0 ? jobs : service.jobNames();
    for (const name of names) service.job(name);
    if (opts.nuke) await confirmNuke(service, names, opts.yes ?? false);
    const controller = new AbortController();
    const stop = (sig: NodeJS.Signals): void => {
      if (controller.signal.aborted) process.exit(EXIT.interrupted);
      process.stderr.write(
        `\n${sig}: stopping: in-flight items finish, the rest stay pending (again to quit now)\n`,
      );
      controller.abort();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    const rendering = service.on(createRenderer(process.stderr, opts.verbose ?? false));
    const results: SyncResult[] = [];
    try {
      for (const job of names) {
        if (controller.signal.aborted) break;
        results.push(
          await service.execute({
            job,
            trigger: "cli",
            signal: controller.signal,
            ...(opts.phase && opts.phase.length > 0 ? { phases: opts.phase } : {}),
            ...(ids || since ? { scope: { ...(ids ? { ids } : {}), ...(since ? { since } : {}) } } : {}),
            options: {
              force: opts.force ?? false,
              incrementalOnly: opts.incrementalOnly ?? false,
              nuke: opts.nuke ?? false,
              wait,
            },
          }),
        );
      }
    } finally {
      rendering.dispose();
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    if (opts.json) printJson(results.length === 1 ? results[0] : results);
    return controller.signal.aborted ? EXIT.interrupted : exitCodeForResults(results);
  });
}

/** The named jobs and phases must exist and, before there is any state, their sources must be readable. */
function preflight(jobs: readonly string[], phases: readonly string[] | undefined): Preflight {
  return {
    jobs,
    check: async (loaded) => {
      // a configuration may hold replicas alone: running no job at all must not look like success
      if (jobs.length === 0 && Object.keys(loaded.config.jobs).length === 0)
        throw new UsageError(`no jobs in ${loaded.file}; replicas run with "syncwarden replicate"`);
      const { checkSourcesBeforeState } = await import("../../service/check-sources.js");
      await checkSourcesBeforeState(loaded, jobs.length > 0 ? jobs : Object.keys(loaded.config.jobs), phases);
    },
  };
}
