import { Command, CommanderError } from "commander";
import * as alerts from "./commands/alerts.js";
import * as breakers from "./commands/breakers.js";
import * as daemon from "./commands/daemon.js";
import * as debts from "./commands/debts.js";
import * as doctor from "./commands/doctor.js";
import * as events from "./commands/events.js";
import * as failed from "./commands/failed.js";
import * as github from "./commands/github.js";
import * as history from "./commands/history.js";
import * as items from "./commands/items.js";
import * as ledger from "./commands/ledger.js";
import * as mcp from "./commands/mcp.js";
import * as memory from "./commands/memory.js";
import * as metrics from "./commands/metrics.js";
import * as replicate from "./commands/replicate.js";
import * as retry from "./commands/retry.js";
import * as run from "./commands/run.js";
import * as search from "./commands/search.js";
import * as serve from "./commands/serve.js";
import * as sessions from "./commands/sessions.js";
import * as status from "./commands/status.js";
import * as worker from "./commands/worker.js";
import { EXIT } from "./exit-codes.js";
import { programHelpText } from "./help-text.js";

/** Every command, in the order help lists them; each file registers its own. */
const COMMANDS = [
  run,
  status,
  failed,
  items,
  retry,
  debts,
  search,
  memory,
  events,
  history,
  daemon,
  worker,
  mcp,
  serve,
  doctor,
  metrics,
  alerts,
  breakers,
  github,
  ledger,
  replicate,
  sessions,
];

export function buildProgram(): Command {
  const program = new Command()
    .name("syncwarden")
    .description("Resumable, resilient sync of slow, flaky sources into local stores.")
    .version("0.1.0")
    .option("-c, --config <file>", "configuration file (default: ./syncwarden.yaml)")
    .showHelpAfterError()
    .addHelpText("after", programHelpText())
    .exitOverride();
  for (const command of COMMANDS) command.register(program);
  return program;
}

const isCommanderError = (e: unknown): e is CommanderError =>
  typeof (e as { code?: unknown } | null)?.code === "string" &&
  (e as { code: string }).code.startsWith("commander.");

/** Parses argv and runs; commander's own usage errors exit 2, help and version 0. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (isCommanderError(e)) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    throw e;
  }
}
