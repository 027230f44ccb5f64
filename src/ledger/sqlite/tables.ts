import Database from "better-sqlite3";
import {
  LEDGER_TABLES,
  type CellValue,
  type ColumnKind,
  type LedgerTables,
  type TableReader,
  type TableRow,
  type TableSpec,
  type TableWriter,
} from "../ledger-tables.js";
import type { SqliteVectorIndex } from "./vector-index.js";

/**
 * Tables SQLite derives from the ledger's own (FTS5 indexes and their shadow tables, kept by triggers;
 * sqlite-vec indexes, their registry).
 */
const DERIVED = /^((chunks|episodes|entities|facts)_fts(_.*)?|vector_indexes|vec_index_.*|sqlite_.*)$/;

const fromSqlite = (kind: ColumnKind, v: unknown): CellValue => {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case "bool":
      return v !== 0;
    case "vector": {
      // a copy: the BLOB's buffer may not be aligned for a Float32Array view
      const b = v as Buffer;
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    }
    default:
      return v as CellValue;
  }
};

const toSqlite = (kind: ColumnKind, v: CellValue): unknown => {
  if (v === null) return null;
  if (kind === "bool") return v === true ? 1 : 0;
  if (kind === "vector") {
    const f = v as Float32Array;
    return Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  }
  return v;
};

const columnList = (spec: TableSpec): string => spec.columns.map((c) => c.name).join(", ");

/**
 * The SQLite ledger's tables. Reads go through a read-only connection of their own holding one read
 * transaction (a WAL snapshot; the ledger's connection keeps writing meanwhile); writes go through the
 * ledger's connection a batch per transaction, never holding one across an await. The FTS5 index follows
 * `chunks` by its triggers; the sqlite-vec indexes are rebuilt after a write (`vectorIndex.reindex`).
 */
export class SqliteLedgerTables implements LedgerTables {
  constructor(
    readonly location: string,
    private readonly db: Database.Database,
    /** The ledger's KNN index (needed to write; reading needs none). */
    private readonly vectorIndex?: SqliteVectorIndex,
  ) {}

  checkSchema(): Promise<string[]> {
    const problems: string[] = [];
    for (const spec of LEDGER_TABLES) {
      const have = this.db
        .prepare<[string], { name: string }>("SELECT name FROM pragma_table_info(?)")
        .all(spec.name)
        .map((r) => r.name);
      if (have.length === 0) {
        problems.push(`table ${spec.name} is missing`);
        continue;
      }
      const want = spec.columns.map((c) => c.name);
      const extra = have.filter((c) => !want.includes(c));
      const missing = want.filter((c) => !have.includes(c));
      if (extra.length > 0)
        problems.push(`table ${spec.name} has columns a copy would miss: ${extra.join(", ")}`);
      if (missing.length > 0) problems.push(`table ${spec.name} lacks columns: ${missing.join(", ")}`);
    }
    const known = new Set(LEDGER_TABLES.map((t) => t.name));
    const tables = this.db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((r) => r.name)
      .filter((n) => !known.has(n) && !DERIVED.test(n));
    for (const t of tables) problems.push(`table ${t} is not one a copy knows`);
    return Promise.resolve(problems);
  }

  async read<T>(fn: (reader: TableReader) => Promise<T>): Promise<T> {
    const conn = new Database(this.location, { readonly: true, fileMustExist: true });
    try {
      conn.pragma("busy_timeout = 10000");
      conn.exec("BEGIN");
      // the snapshot starts at the first read
      conn.prepare("SELECT COUNT(*) FROM sqlite_master").get();
      const reader: TableReader = { pages: (spec) => pagesOf(conn, spec) };
      const out = await fn(reader);
      conn.exec("COMMIT");
      return out;
    } finally {
      conn.close();
    }
  }

  async write<T>(fn: (writer: TableWriter) => Promise<T>): Promise<T> {
    const index = this.vectorIndex;
    if (index === undefined) throw new Error(`${this.location} was opened for reading its tables only`);
    const db = this.db;
    const writer: TableWriter = {
      counts: () => {
        const out: Record<string, number> = {};
        for (const spec of LEDGER_TABLES)
          out[spec.name] = db.prepare<[], number>(`SELECT COUNT(*) FROM ${spec.name}`).pluck().get()!;
        return Promise.resolve(out);
      },
      clear: () => {
        db.transaction(() => {
          index.reset();
          // chunks' delete trigger takes each row out of the FTS5 index
          for (const spec of [...LEDGER_TABLES].reverse()) db.prepare(`DELETE FROM ${spec.name}`).run();
        }).immediate();
        return Promise.resolve();
      },
      insert: (spec, rows) => {
        const insert = db.prepare(
          `INSERT INTO ${spec.name} (${columnList(spec)}) VALUES (${spec.columns.map(() => "?").join(", ")})`,
        );
        db.transaction(() => {
          for (const row of rows) insert.run(spec.columns.map((c, i) => toSqlite(c.kind, row[i] ?? null)));
        }).immediate();
        return Promise.resolve();
      },
    };
    const out = await fn(writer);
    index.reindex();
    return out;
  }
}

/** A table's rows in key order, a page at a time (keyset: each page starts after the last key). */
function* pagesOf(conn: Database.Database, spec: TableSpec): Generator<TableRow[]> {
  const cols = columnList(spec);
  const order = spec.key.join(", ");
  const first = conn.prepare(`SELECT ${cols} FROM ${spec.name} ORDER BY ${order} LIMIT ?`).raw();
  const next = conn
    .prepare(
      `SELECT ${cols} FROM ${spec.name} WHERE (${order}) > (${spec.key.map(() => "?").join(", ")}) ORDER BY ${order} LIMIT ?`,
    )
    .raw();
  const keyAt = spec.key.map((k) => spec.columns.findIndex((c) => c.name === k));
  let after: unknown[] | undefined;
  for (;;) {
    const raw = (
      after === undefined ? first.all(spec.pageRows) : next.all(...after, spec.pageRows)
    ) as unknown[][];
    if (raw.length === 0) return;
    const last = raw[raw.length - 1]!;
    after = keyAt.map((i) => last[i]);
    yield raw.map((r) => spec.columns.map((c, i) => fromSqlite(c.kind, r[i])));
    if (raw.length < spec.pageRows) return;
  }
}
