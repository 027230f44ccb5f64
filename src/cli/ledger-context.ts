import path from "node:path";
import { loadConfig, resolveConfigFile, type LoadedConfig } from "../config/load-config.js";
import { newOwnerId } from "../engine/owner.js";
import { SqliteLedger } from "../ledger/sqlite/sqlite-ledger.js";

// Kept apart from context.ts (which opens a whole SyncService) so that replicate loads neither the
// service nor the connectors.

export interface GlobalOptions {
  config?: string;
}

/** The configuration and its ledger alone, for commands that run no job (replicate): less to load. */
export interface LedgerContext {
  loaded: LoadedConfig;
  ledger: SqliteLedger;
  owner: string;
}

export async function withLedger<T>(
  globals: GlobalOptions,
  fn: (c: LedgerContext) => Promise<T>,
): Promise<T> {
  return withLoadedLedger(loadConfig(resolveConfigFile(globals.config)), fn);
}

/** The ledger of a configuration already loaded. */
export async function withLoadedLedger<T>(
  loaded: LoadedConfig,
  fn: (c: LedgerContext) => Promise<T>,
): Promise<T> {
  const ledger = new SqliteLedger(path.join(loaded.stateDir, "state.db"));
  try {
    return await fn({ loaded, ledger, owner: newOwnerId() });
  } finally {
    await ledger.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}
