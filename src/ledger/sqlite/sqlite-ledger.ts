import type { Ledger } from "../ledger.js";
import { SqliteDocumentStore } from "./document-store.js";
import { SqliteEventStore } from "./event-store.js";
import { SqliteLockStore } from "./lock-store.js";
import { SqliteMaintenanceStore } from "./maintenance-store.js";
import { SqliteMetaStore } from "./meta-store.js";
import { openDatabase } from "./open-database.js";
import { SqlitePlanStore } from "./plan-store.js";
import { SqliteResilienceStore } from "./resilience-store.js";
import { SqliteRunStore } from "./run-store.js";

/** The default ledger: one SQLite file (WAL) holding every role store and the embedded document store. */
export function openSqliteLedger(file: string): Ledger {
  const db = openDatabase(file);
  const documents = new SqliteDocumentStore(db);
  return {
    location: file,
    runs: new SqliteRunStore(db),
    plans: new SqlitePlanStore(db, documents),
    locks: new SqliteLockStore(db),
    events: new SqliteEventStore(db),
    meta: new SqliteMetaStore(db),
    resilience: new SqliteResilienceStore(db),
    maintenance: new SqliteMaintenanceStore(file, db),
    documents,
    close: () => {
      if (db.open) db.close();
      return Promise.resolve();
    },
  };
}
