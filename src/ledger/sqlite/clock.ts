import type Database from "better-sqlite3";

/** The ledger's clock in SQL: milliseconds since the epoch, as the database sees them. */
export const NOW = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

const reads = new WeakMap<Database.Database, Database.Statement<[], number>>();

/** Reads the ledger's clock once, for a transaction that stamps many rows with one time. */
export function dbNow(db: Database.Database): number {
  let stmt = reads.get(db);
  if (!stmt) reads.set(db, (stmt = db.prepare<[], number>(`SELECT ${NOW}`).pluck()));
  return stmt.get()!;
}
