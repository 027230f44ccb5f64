import { PROVIDER_ENV, RESILIENCE_SWITCHES, SYNC_ENV } from "../config/env.js";
import { EXIT } from "./exit-codes.js";

/*
 * The environment variables and exit codes each command's --help lists: one table of each, so the
 * program's help, every command's help and the README (which copies these lines) say the same thing.
 */

const CONFIG_ENV: Readonly<Record<string, string>> = {
  SYNCWARDEN_CONFIG:
    "the configuration file (after -c FILE; else ./syncwarden.yaml, else ./sync_config.yaml)",
  SYNCWARDEN_STATE_DIR: "the state folder (else state_dir:, else .syncwarden/ beside the config)",
  SYNCWARDEN_DATABASE_URL:
    "a PostgreSQL ledger shared by many workers (else ledger.url:, else SQLite in the state folder)",
  SYNCWARDEN_HOST: "this machine's name in leases, locks and replica snapshots (default: the host name)",
  SYNCWARDEN_DATABASE_SCHEMA: "the PostgreSQL ledger's schema (else ledger.schema:, else syncwarden)",
};

/** Read wherever the configuration is loaded: they override `sync:` and every provider's policy. */
const OVERRIDE_ENV: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(SYNC_ENV).map(([name, { key }]) => [name, `overrides sync.${key}`])),
  ...Object.fromEntries(
    Object.entries(PROVIDER_ENV).map(([name, { path }]) => [name, `overrides providers.*.${path.join(".")}`]),
  ),
  RETRY_JITTER: "full | decorrelated | none (true = full, false = none)",
  ...RESILIENCE_SWITCHES,
  "RESILIENCE_*, RETRY_*, CIRCUIT_BREAKER_*": "any other such variable is refused (exit 78)",
  "${VAR}": "any variable named in providers.*.headers (a secret: scrubbed from all output)",
};

const MCP_ENV: Readonly<Record<string, string>> = {
  SYNCWARDEN_MCP_TOKEN: "bearer token of `mcp --http` (else one is generated and printed once)",
};

const WEB_ENV: Readonly<Record<string, string>> = {
  SYNCWARDEN_WEB_TOKEN:
    "token of the status page (`serve`, `daemon --web-port`); else SYNCWARDEN_MCP_TOKEN, else one is generated and printed once",
};

const DOCTOR_ENV: Readonly<Record<string, string>> = {
  SYNCWARDEN_DOCTOR_DISK_WARN_GB: "warn under this much free disk on the state volume (default 10)",
  SYNCWARDEN_DOCTOR_DISK_CRIT_GB: "critical under this much (default 5)",
  SYNCWARDEN_DOCTOR_WAL_WARN_MB: "warn when the WAL is larger (default 256)",
  SYNCWARDEN_BACKUP_RETENTION_DAYS: "repairs delete backups/<ISO time>/ folders older than this (default 30)",
};

/** What each exit code means, for commands that run jobs or replicas. */
export const EXIT_MEANINGS: Readonly<Record<number, string>> = {
  [EXIT.ok]: "completed",
  [EXIT.internal]: "internal error",
  [EXIT.usage]: "usage: unknown command, flag or job",
  [EXIT.partial]: "partial: items failed, dead or pending, or stored without enrichment",
  [EXIT.locked]: "locked: another run holds the job, target or state folder",
  [EXIT.config]: "configuration error, or a provider refused the credentials (HTTP 401/403)",
  [EXIT.interrupted]: "interrupted (SIGINT/SIGTERM)",
};

interface CommandHelp {
  exits: Readonly<Record<number, string>>;
  env: readonly Readonly<Record<string, string>>[];
}

const pick = (...codes: number[]): Record<number, string> =>
  Object.fromEntries(codes.map((c) => [c, EXIT_MEANINGS[c] ?? ""]));

/** The commands whose --help lists their exit codes and environment. */
export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  run: {
    exits: pick(EXIT.ok, EXIT.internal, EXIT.usage, EXIT.partial, EXIT.locked, EXIT.config, EXIT.interrupted),
    env: [CONFIG_ENV, OVERRIDE_ENV],
  },
  replicate: {
    exits: {
      ...pick(EXIT.ok, EXIT.internal, EXIT.usage),
      [EXIT.partial]: "partial: conflicts kept, files failed or a target skipped",
      ...pick(EXIT.locked, EXIT.config, EXIT.interrupted),
    },
    env: [CONFIG_ENV],
  },
  mcp: {
    exits: {
      [EXIT.ok]: "stopped (stdin closed, SIGINT or SIGTERM)",
      ...pick(EXIT.internal, EXIT.usage, EXIT.config),
      [EXIT.interrupted]: "a second signal while stopping",
    },
    env: [CONFIG_ENV, OVERRIDE_ENV, MCP_ENV],
  },
  serve: {
    exits: {
      [EXIT.ok]: "stopped by SIGINT/SIGTERM",
      ...pick(EXIT.internal, EXIT.usage, EXIT.config),
      [EXIT.interrupted]: "a second signal while stopping",
    },
    env: [CONFIG_ENV, OVERRIDE_ENV, WEB_ENV],
  },
  daemon: {
    exits: {
      [EXIT.ok]:
        "stopped by SIGINT/SIGTERM after in-flight work finished (or --once: every due job completed)",
      ...pick(EXIT.internal, EXIT.usage),
      [EXIT.partial]: "--once: a job or replica target did not complete",
      [EXIT.locked]: "another daemon serves the state folder (or its lease was lost)",
      [EXIT.config]: EXIT_MEANINGS[EXIT.config] ?? "",
      [EXIT.interrupted]: "a second signal, or the grace period ran out",
    },
    env: [CONFIG_ENV, OVERRIDE_ENV, DOCTOR_ENV, WEB_ENV],
  },
  worker: {
    exits: {
      [EXIT.ok]: "stopped by SIGINT/SIGTERM after claimed items settled",
      ...pick(EXIT.internal, EXIT.usage, EXIT.config),
      [EXIT.interrupted]: "a second signal, or the grace period ran out",
    },
    env: [CONFIG_ENV, OVERRIDE_ENV],
  },
  "sessions hook": {
    exits: {
      [EXIT.ok]:
        "marked (and with --run: run, or queued behind the job's running run); or no source covers it",
      [EXIT.usage]: "stdin is not a SessionEnd/PreCompact hook's JSON, or its transcript does not exist",
      ...pick(EXIT.internal, EXIT.config),
    },
    env: [CONFIG_ENV],
  },
  doctor: {
    exits: {
      0: "healthy",
      1: "warnings",
      2: "critical (after --repair: the state it left), or a usage error",
      [EXIT.config]: "configuration error",
    },
    env: [CONFIG_ENV, DOCTOR_ENV],
  },
};

function table(rows: Readonly<Record<string | number, string>>): string {
  const entries = Object.entries(rows);
  const width = Math.max(...entries.map(([k]) => k.length)) + 2;
  return entries.map(([k, v]) => `  ${k.padEnd(width)}${v}`).join("\n");
}

/** The text after a command's own help: its environment variables, then its exit codes. */
export function commandHelpText(command: string): string {
  const help = COMMAND_HELP[command];
  if (!help) return "";
  return `
Environment:
${table(Object.assign({}, ...help.env) as Record<string, string>)}

Exit codes:
${table(help.exits)}
`;
}

/** The text after the program's help: where the configuration is, every variable, every exit code. */
export function programHelpText(): string {
  return `
Configuration:
  -c FILE, else $SYNCWARDEN_CONFIG, else syncwarden.yaml in the working directory,
  else sync_config.yaml there.
  State (ledger and document store) lives in .syncwarden/ beside the config file,
  unless state_dir or $SYNCWARDEN_STATE_DIR says otherwise.

Environment:
${table({ ...CONFIG_ENV, ...OVERRIDE_ENV, ...MCP_ENV })}

Exit codes (doctor: 0 healthy, 1 warnings, 2 critical):
${table(EXIT_MEANINGS)}
`;
}
