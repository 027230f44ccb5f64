/**
 * Raw access to every table a ledger holds, for copying a whole ledger between implementations
 * (`copyLedger`) and for the PostgreSQL ledger's portable backups. The role stores stay the only way the
 * engine reads and writes; this is the one place that knows the tables themselves.
 *
 * Values travel in one neutral form per column kind, whatever the implementation stores:
 * - `int`: number (ids, ms stamps, fences, counters); `real`: number; `text`: string;
 * - `bool`: boolean (SQLite stores 0/1);
 * - `json`: the JSON text (PostgreSQL's JSONB may reorder keys: checksums compare the parsed value);
 * - `vector`: Float32Array (SQLite's BLOB of little-endian float32, PostgreSQL's REAL[]).
 * NULL is null in every kind.
 */
export type ColumnKind = "int" | "real" | "text" | "bool" | "json" | "vector";

export type CellValue = number | string | boolean | Float32Array | null;
/** One row: its values in the table's column order. */
export type TableRow = CellValue[];

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
}

export interface TableSpec {
  name: string;
  columns: readonly ColumnSpec[];
  /** The primary key: rows are read in this order, a page at a time. */
  key: readonly string[];
  /** An id the database hands out (PostgreSQL's identity column): set past the largest id after a copy. */
  identity?: string;
  /** Rows per page (a vector row is large). */
  pageRows: number;
}

const PAGE_ROWS = 5_000;

const table = (
  name: string,
  columns: string,
  key: readonly string[],
  extra: { identity?: string; pageRows?: number } = {},
): TableSpec => ({
  name,
  columns: columns
    .trim()
    .split(/\s*,\s*/)
    .map((c) => {
      const [col, kind] = c.split(":") as [string, ColumnKind];
      return { name: col, kind };
    }),
  key,
  pageRows: extra.pageRows ?? PAGE_ROWS,
  ...(extra.identity !== undefined ? { identity: extra.identity } : {}),
});

/**
 * Every table of the ledger with every column both implementations keep, parents before children
 * (cleared in reverse). Derived state is not here: PostgreSQL's generated `tsv` columns, SQLite's FTS5
 * indexes (kept by triggers) and its sqlite-vec indexes (`vector_indexes`): each implementation rebuilds
 * its own. Each
 * implementation checks that its schema has exactly these columns before a copy, so a migration that
 * adds one cannot be silently left behind.
 */
export const LEDGER_TABLES: readonly TableSpec[] = [
  table(
    "runs",
    "id:text, job:text, trigger:text, owner:text, started_at:int, finished_at:int, status:text, result:json",
    ["id"],
  ),
  table(
    "plans",
    "id:int, job:text, phase:text, scope:text, from_checkpoint:text, target:text, mode:text, forced:bool, state:text, created_at:int, closed_at:int",
    ["id"],
    { identity: "id" },
  ),
  table(
    "items",
    "id:int, plan_id:int, job:text, phase:text, key:text, version:text, op:text, status:text, attempts:int, next_attempt_at:int, lease_owner:text, lease_expires_at:int, fence:int, reason:text, error_class:text, error_message:text, meta:json, updated_at:int",
    ["id"],
    { identity: "id" },
  ),
  table("fingerprints", "job:text, phase:text, key:text, version:text, updated_at:int", [
    "job",
    "phase",
    "key",
  ]),
  table("checkpoints", "job:text, phase:text, scope:text, value:text, updated_at:int", [
    "job",
    "phase",
    "scope",
  ]),
  table(
    "events",
    "id:int, ts:int, run_id:text, job:text, level:text, type:text, message:text, data:json",
    ["id"],
    {
      identity: "id",
    },
  ),
  table("metadata", "key:text, value:text", ["key"]),
  table(
    "breakers",
    "provider:text, state:text, failures:int, successes:int, opened_at:int, open_until:int, reopen_count:int, isolated:bool, reason:text, updated_at:int",
    ["provider"],
  ),
  table("breaker_probes", "provider:text, owner:text, expires_at:int", ["provider", "owner"]),
  table(
    "rate_gates",
    "provider:text, paused_until:int, reason:text, tokens:real, refilled_at:int, updated_at:int",
    ["provider"],
  ),
  table(
    "debts",
    "id:int, job:text, phase:text, key:text, version:text, step:int, provider:text, reason:text, attempts:int, created_at:int, updated_at:int",
    ["id"],
    { identity: "id" },
  ),
  table(
    "job_locks",
    "job:text, owner:text, pid:int, host:text, started_at:int, heartbeat_at:int, expires_at:int, fence:int",
    ["job"],
  ),
  table("lock_fences", "job:text, fence:int", ["job"]),
  table(
    "documents",
    "id:int, job:text, collection:text, key:text, version:text, metadata:json, updated_at:int",
    ["id"],
    { identity: "id" },
  ),
  table(
    "chunks",
    "id:int, document_id:int, ord:int, content:text, start_line:int, end_line:int, symbol:text, language:text",
    ["id"],
    { identity: "id", pageRows: 1_000 },
  ),
  table("vectors", "document_id:int, model:text, dim:int, vector:vector", ["document_id"], { pageRows: 250 }),
  table(
    "episodes",
    "id:int, job:text, collection:text, key:text, version:text, session:text, first_turn:int, last_turn:int, started_at:int, ended_at:int, source:text, metadata:json, summary:text, extracted:bool, extraction_hash:text, prompt_tokens:int, completion_tokens:int, updated_at:int",
    ["id"],
    { identity: "id" },
  ),
  table("entities", "id:int, job:text, type:text, norm_name:text, name:text, description:text", ["id"], {
    identity: "id",
  }),
  table("entity_aliases", "entity_id:int, alias:text, norm:text", ["entity_id", "alias"]),
  table("mentions", "entity_id:int, episode_id:int", ["entity_id", "episode_id"]),
  table(
    "facts",
    "id:int, job:text, subject_id:int, relation:text, object_id:int, fact:text, valid_at:int, invalid_at:int, invalidated_by:int, episode_id:int, exclusive:bool",
    ["id"],
    { identity: "id" },
  ),
];

/** Reads one consistent view of a ledger (a snapshot: writes made meanwhile are not seen). */
export interface TableReader {
  /** The table's rows in key order, a page at a time (SQLite reads synchronously). */
  pages(table: TableSpec): AsyncIterable<TableRow[]> | Iterable<TableRow[]>;
}

/** Writes rows into a ledger's tables (PostgreSQL: in one transaction, committed when the session ends). */
export interface TableWriter {
  /** Rows per table that are there now. */
  counts(): Promise<Record<string, number>>;
  /** Deletes every row of every table (and the derived indexes over them). */
  clear(): Promise<void>;
  /** Inserts rows as they are, ids included. */
  insert(table: TableSpec, rows: readonly TableRow[]): Promise<void>;
}

/** One implementation's tables: what `copyLedger` reads from and writes into. */
export interface LedgerTables {
  /** Where the ledger keeps its data, for messages. */
  readonly location: string;
  /** Problems that make the schema differ from LEDGER_TABLES ([]: the copy would miss nothing). */
  checkSchema(): Promise<string[]>;
  /** Runs `fn` on one consistent snapshot of every table. */
  read<T>(fn: (reader: TableReader) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` with a writer, then brings derived state in line (identity sequences past the largest id,
   * search and vector indexes rebuilt). PostgreSQL: all of it in one transaction (a failure leaves the
   * ledger as it was); SQLite: a transaction per batch (a failure leaves what was written so far).
   */
  write<T>(fn: (writer: TableWriter) => Promise<T>): Promise<T>;
}
