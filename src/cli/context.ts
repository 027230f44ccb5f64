import { loadConfig, resolveConfigFile } from "../config/load-config.js";
import { SyncService } from "../service/sync-service.js";
import type { GlobalOptions } from "./ledger-context.js";

export { printJson, type GlobalOptions } from "./ledger-context.js";

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
