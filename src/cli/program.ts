import { Command, CommanderError, Option } from "commander";
import { PROVIDER_ENV, SYNC_ENV } from "../config/env.js";
import { errorMessage } from "../errors.js";
import { EXIT, exitCodeForError } from "./exit-codes.js";

const HELP_FOOTER = `
Configuration:
  syncwarden.yaml in the working directory, or -c FILE, or $SYNCWARDEN_CONFIG.
  State (ledger and document store) lives in .syncwarden/ beside the config file,
  unless state_dir or $SYNCWARDEN_STATE_DIR says otherwise.

Environment:
${Object.entries(SYNC_ENV)
  .map(([name, { key }]) => `  ${name.padEnd(30)} overrides sync.${key}`)
  .join("\n")}
${Object.entries(PROVIDER_ENV)
  .map(([name, { path }]) => `  ${name.padEnd(36)} overrides providers.*.${path.join(".")}`)
  .join("\n")}
  RETRY_JITTER                         full | decorrelated | none (true = full, false = none)
  RESILIENCE_ENABLED                   false: one attempt, no breaker, no rate gate
  SYNCWARDEN_CONFIG              the configuration file
  SYNCWARDEN_STATE_DIR           the state folder
  SYNCWARDEN_MCP_TOKEN           bearer token of \`mcp --http\` (else one is generated)

Exit codes:
  0 completed   1 internal error   2 usage   3 partial (items failed or dead)
  75 locked     78 configuration error     130 interrupted
`;

type Action = (...args: never[]) => Promise<number>;

// Each command's module is imported when the command runs, so a command loads only what it uses
// (the MCP SDK alone takes a third of a second to load).

/** Runs a command action and turns its outcome (or error) into process.exitCode. */
function act<A extends Action>(fn: A): (...args: Parameters<A>) => Promise<void> {
  return async (...args) => {
    try {
      process.exitCode = await fn(...args);
    } catch (e) {
      process.stderr.write(`syncwarden: ${errorMessage(e)}\n`);
      process.exitCode = exitCodeForError(e);
    }
  };
}

export function buildProgram(): Command {
  const program = new Command()
    .name("syncwarden")
    .description("Resumable, resilient sync of slow, flaky sources into local stores.")
    .version("0.1.0")
    .option("-c, --config <file>", "configuration file (default: ./syncwarden.yaml)")
    .showHelpAfterError()
    .addHelpText("after", HELP_FOOTER)
    .exitOverride();

  program
    .command("run")
    .description("sync jobs (all of them, or those named): plan, record, process, move checkpoints")
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
      "only what changed since this value (e.g. a date for http-json since:); scoped",
    )
    .option("--nuke", "delete the job's ledger state and documents, then sync from scratch (asks, or --yes)")
    .option("--yes", "confirm --nuke without asking")
    .option("--wait <seconds>", "wait this long for another runner of the job (default 30), then exit 75")
    .option("--no-wait", "fail at once (exit 75) when another runner holds the job")
    .option("--json", "print the SyncResult as JSON on stdout")
    .option("-v, --verbose", "report every failed attempt, not only dead items")
    .action(
      act(async (jobs: string[], _o: unknown, cmd: Command) =>
        (await import("./commands/run.js")).runCommand(jobs, cmd.optsWithGlobals()),
      ),
    );

  program
    .command("status")
    .description("checkpoints, item counts, documents, last run and last success per job and phase")
    .argument("[job]")
    .option("--json", "print as JSON on stdout")
    .action(
      act(async (job: string | undefined, _o: unknown, cmd: Command) =>
        (await import("./commands/status.js")).statusCommand(job, cmd.optsWithGlobals()),
      ),
    );

  program
    .command("failed")
    .description("list failed and dead items with their error class and message")
    .argument("[job]")
    .option("--json", "print as JSON on stdout")
    .action(
      act(async (job: string | undefined, _o: unknown, cmd: Command) =>
        (await import("./commands/items.js")).failedCommand(job, cmd.optsWithGlobals()),
      ),
    );

  program
    .command("retry")
    .description("requeue failed items (with --dead, dead ones too) for the next run")
    .argument("[job]")
    .option("--dead", "also requeue dead items, with a fresh attempt budget")
    .option("--debts", "pay enrichment debts now (items stored raw while a provider was down)")
    .option("--json", "print the count as JSON on stdout")
    .action(
      act(async (job: string | undefined, _o: unknown, cmd: Command) =>
        (await import("./commands/items.js")).retryCommand(job, cmd.optsWithGlobals()),
      ),
    );

  program
    .command("search")
    .description("full-text search (bm25) over the documents of sqlite-docs sinks")
    .argument("<query...>")
    .option("--job <job>", "only this job's documents")
    .option("--semantic", "rank by cosine similarity of embeddings (needs an openai-embeddings enrich step)")
    .option("--limit <n>", "at most n results", "10")
    .option("--json", "print hits as JSON on stdout")
    .action(
      act(async (words: string[], _o: unknown, cmd: Command) =>
        (await import("./commands/search.js")).searchCommand(words, cmd.optsWithGlobals()),
      ),
    );

  program
    .command("events")
    .description("the event log: runs, phases, progress, locks, breakers and rate gates, errors")
    .argument("[job]")
    .option("--since <time>", "from this time: an ISO date or a duration back (15m, 2h, 7d)")
    .option("--limit <n>", "at most n events (the newest)", "200")
    .option("--json", "print as JSON on stdout")
    .action(
      act(async (job: string | undefined, _o: unknown, cmd: Command) =>
        (await import("./commands/history.js")).eventsCommand(job, cmd.optsWithGlobals()),
      ),
    );

  program
    .command("history")
    .description("past runs with their results, newest first")
    .argument("[job]")
    .option("--limit <n>", "at most n runs", "20")
    .option("--json", "print as JSON on stdout")
    .action(
      act(async (job: string | undefined, _o: unknown, cmd: Command) =>
        (await import("./commands/history.js")).historyCommand(job, cmd.optsWithGlobals()),
      ),
    );

  program
    .command("daemon")
    .description("run jobs on their schedule (every: 10m, or cron), one daemon per state folder")
    .option("--once", "run every due job once, then exit")
    .option("--log-format <format>", "pretty (one readable line per event) or json (pino lines)", "pretty")
    .option("--grace <seconds>", "on SIGTERM/SIGINT, how long in-flight items may finish", "30")
    .action(
      act(async (_o: unknown, cmd: Command) =>
        (await import("./commands/daemon.js")).daemonCommand(cmd.optsWithGlobals()),
      ),
    );

  program
    .command("mcp")
    .description("MCP server (stdio; --http PORT for Streamable HTTP on 127.0.0.1 with a bearer token)")
    .option("--http <port>", "serve Streamable HTTP on 127.0.0.1:PORT instead of stdio")
    .action(
      act(async (_o: unknown, cmd: Command) =>
        (await import("./commands/mcp.js")).mcpCommand(cmd.optsWithGlobals()),
      ),
    );

  program
    .command("doctor")
    .description(
      "health checks of the state: disk, database integrity and size, schedules, breakers, locks, leases, backlog, backups (exit 0 ok, 1 warnings, 2 critical)",
    )
    .option(
      "--repair",
      "apply the safe repairs first (restore a damaged database from a snapshot, prune, requeue, vacuum, sync overdue jobs)",
    )
    .option("--thorough", "PRAGMA integrity_check instead of quick_check")
    .option("--json", "print { checks, repairs } as JSON on stdout")
    .addHelpText(
      "after",
      `
Environment:
  SYNCWARDEN_DOCTOR_DISK_WARN_GB     warn under this much free disk on the state volume (default 10)
  SYNCWARDEN_DOCTOR_DISK_CRIT_GB     critical under this much (default 5)
  SYNCWARDEN_DOCTOR_WAL_WARN_MB      warn when the WAL is larger (default 256)
  SYNCWARDEN_BACKUP_RETENTION_DAYS   --repair deletes backups/<ISO time>/ folders older than this (default 30)

Exit codes: 0 healthy, 1 warnings, 2 critical (after --repair: the state it left).
`,
    )
    .action(
      act(async (_o: unknown, cmd: Command) =>
        (await import("./commands/doctor.js")).doctorCommand(cmd.optsWithGlobals()),
      ),
    );

  const breakers = program
    .command("breakers")
    .description(
      "circuit breakers and rate gates of every provider, and the breakers of replica targets (shared by all processes on this state)",
    )
    .option("--json", "print as JSON on stdout")
    .action(
      act(async (_o: unknown, cmd: Command) =>
        (await import("./commands/breakers.js")).breakersCommand(cmd.optsWithGlobals()),
      ),
    );
  breakers
    .command("reset")
    .description("close a provider's breaker (or a replica target's: replica:<replica>:<target>) now")
    .argument("<name>")
    .action(
      act(async (name: string, _o: unknown, cmd: Command) =>
        (await import("./commands/breakers.js")).breakerActionCommand("reset", name, cmd.optsWithGlobals()),
      ),
    );
  breakers
    .command("isolate")
    .description("open a provider's breaker (or a replica target's) until it is reset by hand")
    .argument("<name>")
    .action(
      act(async (name: string, _o: unknown, cmd: Command) =>
        (await import("./commands/breakers.js")).breakerActionCommand("isolate", name, cmd.optsWithGlobals()),
      ),
    );

  program
    .command("replicate")
    .description(
      "keep replica folders in step with their targets (three-way, from the last synced state); a target needs its .syncwarden-replica marker, created by the first run only (no manifest yet, target folder exists)",
    )
    .argument("[name]", "only this replica")
    .option("--direction <direction>", "push | pull | bidirectional (overrides the config)")
    .option("--conflict <strategy>", "newest | local | remote | manual (overrides the config)")
    .option("--dry-run", "print the plan (copies, deletes, conflicts) without writing")
    .option("--force", "go past the max_delete and clock-shift guards")
    .option("--progress", "a line on stderr when a target starts applying changes, and at each checkpoint")
    .option("--json", "print a summary per target as JSON on stdout")
    .action(
      act(async (name: string | undefined, _o: unknown, cmd: Command) =>
        (await import("./commands/replicate.js")).replicateCommand(name, cmd.optsWithGlobals()),
      ),
    );

  program
    .command("replicas")
    .description("replica folders")
    .command("verify")
    .description("hash both sides of every target and report every difference (exit 0 only when they match)")
    .argument("[name]", "only this replica")
    .option("--json", "print as JSON on stdout")
    .action(
      act(async (name: string | undefined, _o: unknown, cmd: Command) =>
        (await import("./commands/replicate.js")).verifyCommand(name, cmd.optsWithGlobals()),
      ),
    );

  return program;
}

/** Parses argv and runs; commander's own usage errors exit 2, help and version 0. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    throw e;
  }
}
