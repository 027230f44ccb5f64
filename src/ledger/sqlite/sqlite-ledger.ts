import type { Ledger } from "../ledger.js";
import { SqliteDocumentStore } from "./document-store.js";
import { SqliteEventStore } from "./event-store.js";
import { SqliteKnowledgeStore } from "./knowledge-store.js";
import { SqliteLockStore } from "./lock-store.js";
import { SqliteMaintenanceStore } from "./maintenance-store.js";
import { SqliteMetaStore } from "./meta-store.js";
import { openDatabase } from "./open-database.js";
import { SqlitePlanStore } from "./plan-store.js";
import { rejecting } from "./rejecting.js";
import { SqliteResilienceStore } from "./resilience-store.js";
import { SqliteRunStore } from "./run-store.js";
import { SqliteLedgerTables } from "./tables.js";
import type { VectorExtensionLoader } from "./vector-index.js";

/** The default ledger: one SQLite file (WAL) holding every role store and the embedded document store. */
export function openSqliteLedger(
  file: string,
  options: { loadVectorExtension?: VectorExtensionLoader } = {},
): Ledger {
  const db = openDatabase(file);
  const documents = new SqliteDocumentStore(db, options.loadVectorExtension);
  return {
    location: file,
    runs: rejecting(new SqliteRunStore(db)),
    plans: rejecting(new SqlitePlanStore(db, documents)),
    locks: rejecting(new SqliteLockStore(db)),
    events: rejecting(new SqliteEventStore(db)),
    meta: rejecting(new SqliteMetaStore(db)),
    resilience: rejecting(new SqliteResilienceStore(db)),
    maintenance: rejecting(new SqliteMaintenanceStore(file, db)),
    documents: rejecting(documents),
    knowledge: rejecting(new SqliteKnowledgeStore(db, documents)),
    tables: new SqliteLedgerTables(file, db, documents.vectorIndex),
    close: () => {
      if (db.open) db.close();
      return Promise.resolve();
    },
  };
}
