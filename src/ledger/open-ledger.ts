import path from "node:path";
import type { Ledger } from "./ledger.js";
import type { MaintenanceStore } from "./maintenance-store.js";
import { openPostgresLedger } from "./postgres/postgres-ledger.js";
import { SqliteMaintenanceStore } from "./sqlite/maintenance-store.js";
import { openSqliteLedger } from "./sqlite/sqlite-ledger.js";

/**
 * What picks and places a ledger: the state folder (the SQLite ledger's `state.db` lives there), or a
 * PostgreSQL server and schema shared by many workers.
 */
export interface LedgerConfig {
  stateDir: string;
  ledger?: { url: string; schema?: string; poolSize?: number };
}

/** The ledger's file in a state folder. */
export const ledgerFile = (stateDir: string): string => path.join(stateDir, "state.db");

/** Opens (creating and migrating if needed) the configuration's ledger. */
export function openLedger(config: LedgerConfig): Ledger {
  if (config.ledger) return openPostgresLedger(config.ledger);
  return openSqliteLedger(ledgerFile(config.stateDir));
}

/** The ledger's maintenance without opening it for work (doctor looks at a ledger that may be damaged). */
export function openMaintenance(config: LedgerConfig): MaintenanceStore {
  if (config.ledger) {
    const ledger = openPostgresLedger(config.ledger);
    const m = ledger.maintenance;
    return {
      location: m.location,
      close: () => ledger.close(),
      exists: () => m.exists(),
      integrity: (thorough) => m.integrity(thorough),
      size: () => m.size(),
      backup: (dest) => m.backup(dest),
      compact: () => m.compact(),
      restore: (candidates) => m.restore(candidates),
    };
  }
  return new SqliteMaintenanceStore(ledgerFile(config.stateDir));
}

/**
 * A ledger named by a place, for copies: a postgres:// URL (in `schema`, default syncwarden), or a SQLite
 * ledger file (a folder: its state.db).
 */
export function openLedgerAt(place: string, schema?: string): Ledger {
  if (/^postgres(ql)?:\/\//.test(place))
    return openPostgresLedger({ url: place, ...(schema ? { schema } : {}) });
  const file = place.endsWith(".db") ? place : ledgerFile(place);
  return openSqliteLedger(file);
}
