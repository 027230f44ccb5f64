import path from "node:path";
import type { Ledger } from "./ledger.js";
import type { MaintenanceStore } from "./maintenance-store.js";
import { SqliteMaintenanceStore } from "./sqlite/maintenance-store.js";
import { openSqliteLedger } from "./sqlite/sqlite-ledger.js";

/** What picks and places a ledger: the state folder (the SQLite ledger's `state.db` lives there). */
export interface LedgerConfig {
  stateDir: string;
}

/** The ledger's file in a state folder. */
export const ledgerFile = (stateDir: string): string => path.join(stateDir, "state.db");

/** Opens (creating and migrating if needed) the configuration's ledger. */
export function openLedger(config: LedgerConfig): Ledger {
  return openSqliteLedger(ledgerFile(config.stateDir));
}

/** The ledger's maintenance without opening it for work (doctor looks at a ledger that may be damaged). */
export function openMaintenance(config: LedgerConfig): MaintenanceStore {
  return new SqliteMaintenanceStore(ledgerFile(config.stateDir));
}
