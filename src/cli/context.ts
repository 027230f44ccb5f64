import path from "node:path";
import { loadConfig, resolveConfigFile, type LoadedConfig } from "../config/load-config.js";
import { newOwnerId } from "../engine/owner.js";
import { SqliteLedger } from "../ledger/sqlite/sqlite-ledger.js";
import { SyncService } from "../service/sync-service.js";

export interface GlobalOptions {
  config?: string;
}

/** Loads the configuration (-c FILE or ./syncwarden.yaml) and opens its service; config errors throw before any state is touched. */
export function openService(globals: GlobalOptions): SyncService {
  const loaded = loadConfig(resolveConfigFile(globals.config));
  return SyncService.open(loaded);
}

export async function withService<T>(globals: GlobalOptions, fn: (s: SyncService) => Promise<T>): Promise<T> {
  const service = openService(globals);
  try {
    return await fn(service);
  } finally {
    await service.close();
  }
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
  const loaded = loadConfig(resolveConfigFile(globals.config));
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
