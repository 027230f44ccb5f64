import type pg from "pg";
import type { DocumentWrite } from "../types.js";

/**
 * What the plan store needs of the PostgreSQL document store: writes applied on the settlement's own
 * connection, inside its transaction (an item's completion and its document commit together, or
 * neither), and a job's documents removed with the job (--nuke).
 */
export interface PgDocumentWriter {
  apply(c: pg.PoolClient, writes: readonly DocumentWrite[]): Promise<void>;
  forget(c: pg.PoolClient, job: string): Promise<void>;
}
