import { Command, CommanderError } from "commander";
import { PROVIDER_ENV, RESILIENCE_SWITCHES, SYNC_ENV } from "../config/env.js";
import * as breakers from "./commands/breakers.js";
import * as daemon from "./commands/daemon.js";
import * as doctor from "./commands/doctor.js";
import * as events from "./commands/events.js";
import * as failed from "./commands/failed.js";
import * as history from "./commands/history.js";
import * as mcp from "./commands/mcp.js";
import * as replicate from "./commands/replicate.js";
import * as retry from "./commands/retry.js";
import * as run from "./commands/run.js";
import * as search from "./commands/search.js";
import * as status from "./commands/status.js";
import { EXIT } from "./exit-codes.js";

const HELP_FOOTER = `
Configuration:
  -c FILE, else $SYNCWARDEN_CONFIG, else syncwarden.yaml in the working directory,
  else sync_config.yaml there.
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
${Object.entries(RESILIENCE_SWITCHES)
  .map(([name, what]) => `  ${name.padEnd(36)} ${what}`)
  .join("\n")}
  (other RESILIENCE_*, RETRY_* and CIRCUIT_BREAKER_* variables are refused: exit 78)
  SYNCWARDEN_CONFIG              the configuration file
  SYNCWARDEN_STATE_DIR           the state folder
  SYNCWARDEN_MCP_TOKEN           bearer token of \`mcp --http\` (else one is generated)

Exit codes:
  0 completed   1 internal error   2 usage   3 partial (items failed or dead)
  75 locked     78 configuration error     130 interrupted
`;

/** Every command, in the order help lists them; each file registers its own. */
const COMMANDS = [
  run,
  status,
  failed,
  retry,
  search,
  events,
  history,
  daemon,
  mcp,
  doctor,
  breakers,
  replicate,
];

export function buildProgram(): Command {
  const program = new Command()
    .name("syncwarden")
    .description("Resumable, resilient sync of slow, flaky sources into local stores.")
    .version("0.1.0")
    .option("-c, --config <file>", "configuration file (default: ./syncwarden.yaml)")
    .showHelpAfterError()
    .addHelpText("after", HELP_FOOTER)
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
