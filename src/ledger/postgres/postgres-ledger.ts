import type { Ledger } from "../ledger.js";
import { PgDocumentStore } from "./document-store.js";
import { PgEventStore } from "./event-store.js";
import { PgKnowledgeStore } from "./knowledge-store.js";
import { PgLockStore } from "./lock-store.js";
import { PgMaintenanceStore } from "./maintenance-store.js";
import { PgMetaStore } from "./meta-store.js";
import { PgDatabase, type PostgresLedgerConfig } from "./pg-database.js";
import { PgPlanStore } from "./plan-store.js";
import { PgResilienceStore } from "./resilience-store.js";
import { PgRunStore } from "./run-store.js";
import { PgLedgerTables } from "./tables.js";

/**
 * The shared ledger: one PostgreSQL schema holding every role store and the document store, for many
 * workers on many machines. Opening is synchronous (a pool); the schema is migrated before the first
 * statement, under an advisory lock.
 */
export function openPostgresLedger(config: PostgresLedgerConfig): Ledger {
  const db = new PgDatabase(config);
  const documents = new PgDocumentStore(db);
  return {
    location: db.location,
    runs: new PgRunStore(db),
    plans: new PgPlanStore(db, documents),
    locks: new PgLockStore(db),
    events: new PgEventStore(db),
    meta: new PgMetaStore(db),
    resilience: new PgResilienceStore(db),
    maintenance: new PgMaintenanceStore(db),
    documents,
    knowledge: new PgKnowledgeStore(db, documents),
    tables: new PgLedgerTables(db),
    close: () => db.close(),
  };
}
