import type { Command } from "commander";
import { loadConfig, resolveConfigFile, type LoadedConfig } from "../config/load-config.js";
import { redact, redactJson } from "../config/secrets.js";
import { errorMessage } from "../errors.js";
import { requireJob } from "../service/known-jobs.js";
import type { Services } from "../service/open-services.js";
import type { ReplicaService } from "../service/replica-service.js";
import { exitCodeForError } from "./exit-codes.js";

/** Options every command takes. */
export interface GlobalOptions {
  config?: string;
}

/** The configuration of -c FILE, $SYNCWARDEN_CONFIG or ./syncwarden.yaml; config errors throw before any state is touched. */
export function loadGlobalConfig(globals: GlobalOptions): LoadedConfig {
  return loadConfig(resolveConfigFile(globals.config));
}

// The services are imported when a command runs, not when the program is built: `--help` loads none of
// them, and `replicate` loads the replica service alone.

/** What a command checks before the state is opened (or created): nothing is written when a check fails. */
export interface Preflight {
  /** The jobs the command names: an unknown one is a usage error (exit 2). */
  jobs?: readonly (string | undefined)[];
  /** Further checks of the configuration (e.g. that the sources of the jobs to run can be read). */
  check?: (loaded: LoadedConfig) => Promise<void>;
}

/** Opens the configuration's services for the length of `fn`, once the preflight checks passed. */
export async function withServices<T>(
  globals: GlobalOptions & Preflight & { withMetrics?: boolean },
  fn: (s: Services) => Promise<T>,
): Promise<T> {
  const loaded = loadGlobalConfig(globals);
  for (const job of globals.jobs ?? []) if (job !== undefined) requireJob(loaded, job);
  await globals.check?.(loaded);
  const { openServices } = await import("../service/open-services.js");
  const services = openServices(loaded, { metrics: globals.withMetrics ?? false });
  try {
    return await fn(services);
  } finally {
    await services.close();
  }
}

/** Opens the replica service alone (replicate and verify need no job machinery) for the length of `fn`. */
export async function withReplicas<T>(
  globals: GlobalOptions,
  fn: (r: ReplicaService) => Promise<T>,
): Promise<T> {
  const loaded = loadGlobalConfig(globals);
  const { ReplicaService } = await import("../service/replica-service.js");
  const replicas = ReplicaService.open(loaded);
  try {
    return await fn(replicas);
  } finally {
    await replicas.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(redactJson(value, 2) + "\n");
}

type Action = (...args: never[]) => Promise<number>;

/** Runs a command action and turns its outcome (or error) into process.exitCode. */
export function act<A extends Action>(fn: A): (...args: Parameters<A>) => Promise<void> {
  return async (...args) => {
    try {
      process.exitCode = await fn(...args);
    } catch (e) {
      process.stderr.write(`syncwarden: ${redact(errorMessage(e))}\n`);
      process.exitCode = exitCodeForError(e);
    }
  };
}

/** The options of a command with the global ones (-c); each command names the shape of its own. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- commander's options are untyped
export const globalsOf = <T = object>(cmd: Command): T & GlobalOptions => cmd.optsWithGlobals();
