import type pg from "pg";
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
import type { PgDatabase } from "./pg-database.js";

/** The array type each kind travels in through unnest (a vector as the text of its REAL[], since unnest flattens arrays). */
const ARRAY_TYPE: Record<ColumnKind, string> = {
  int: "bigint[]",
  real: "float8[]",
  text: "text[]",
  bool: "boolean[]",
  json: "text[]",
  vector: "text[]",
};
/** Cast from the unnested value to the column's type. */
const CAST: Partial<Record<ColumnKind, string>> = { json: "::jsonb", vector: "::real[]" };

/** Tables of the schema that are not the ledger's data. */
const OWN = new Set(["schema_migrations"]);

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * What a page query selects: JSON as its text (SQL NULL and JSON null stay apart), a vector as the text
 * of its array (split here, far faster than the driver's general array parser).
 */
const selectList = (spec: TableSpec): string =>
  spec.columns
    .map((c) => (c.kind === "json" || c.kind === "vector" ? `${c.name}::text AS ${c.name}` : c.name))
    .join(", ");

const fromPg = (kind: ColumnKind, v: unknown): CellValue => {
  if (v === null || v === undefined) return null;
  if (kind === "vector") {
    // {0.1,-2,NaN,Infinity}: float4 text that Number reads exactly (the shortest form of each float)
    const inner = (v as string).slice(1, -1);
    return inner === "" ? new Float32Array(0) : Float32Array.from(inner.split(","), Number);
  }
  return v as CellValue;
};

const toPg = (kind: ColumnKind, v: CellValue): unknown => {
  if (v === null || kind !== "vector") return v;
  // each float32 printed exactly (the shortest double that is it), read back as the same REAL
  return `{${Array.from(v as Float32Array).join(",")}}`;
};

/**
 * The PostgreSQL ledger's tables. A read is one REPEATABLE READ, READ ONLY transaction (one snapshot of
 * every table, workers keep writing meanwhile); a write is one transaction on one connection, so a copy
 * into the schema (a restore with replace) commits whole or not at all. Batches go in through unnest,
 * ids as they are (OVERRIDING SYSTEM VALUE), and each identity is set past the largest id at the end.
 */
export class PgLedgerTables implements LedgerTables {
  readonly location: string;

  constructor(private readonly db: PgDatabase) {
    this.location = db.location;
  }

  async checkSchema(): Promise<string[]> {
    const rows = await this.db.query<{ table_name: string; columns: string[] }>(
      `SELECT t.table_name::text, coalesce(array_agg(c.column_name::text) FILTER (WHERE c.column_name IS NOT NULL), '{}') AS columns
       FROM information_schema.tables t
       LEFT JOIN information_schema.columns c
         ON c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.is_generated = 'NEVER'
       WHERE t.table_schema = $1 AND t.table_type = 'BASE TABLE'
       GROUP BY t.table_name`,
      [this.db.schema],
    );
    const have = new Map(rows.map((r) => [r.table_name, r.columns]));
    const problems: string[] = [];
    for (const spec of LEDGER_TABLES) {
      const cols = have.get(spec.name);
      if (cols === undefined) {
        problems.push(`table ${spec.name} is missing`);
        continue;
      }
      const want = spec.columns.map((c) => c.name);
      const extra = cols.filter((c) => !want.includes(c));
      const missing = want.filter((c) => !cols.includes(c));
      if (extra.length > 0)
        problems.push(`table ${spec.name} has columns a copy would miss: ${extra.join(", ")}`);
      if (missing.length > 0) problems.push(`table ${spec.name} lacks columns: ${missing.join(", ")}`);
    }
    const known = new Set(LEDGER_TABLES.map((t) => t.name));
    for (const t of have.keys())
      if (!known.has(t) && !OWN.has(t)) problems.push(`table ${t} is not one a copy knows`);
    return problems;
  }

  async read<T>(fn: (reader: TableReader) => Promise<T>): Promise<T> {
    return this.session("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", (c) =>
      fn({ pages: (spec) => this.pagesOf(c, spec) }),
    );
  }

  async write<T>(fn: (writer: TableWriter) => Promise<T>): Promise<T> {
    return this.session("BEGIN", async (c) => {
      const writer: TableWriter = {
        counts: async () => {
          const sql = LEDGER_TABLES.map((t) => `(SELECT count(*) FROM ${t.name}) AS ${t.name}`).join(", ");
          const { rows } = await c.query<Record<string, number>>(`SELECT ${sql}`);
          return rows[0]!;
        },
        clear: async () => {
          await c.query(`TRUNCATE ${LEDGER_TABLES.map((t) => t.name).join(", ")} RESTART IDENTITY`);
        },
        insert: async (spec, rows) => {
          if (rows.length === 0) return;
          const cols = spec.columns.map((col) => col.name).join(", ");
          const unnest = spec.columns.map((col, i) => `$${i + 1}::${ARRAY_TYPE[col.kind]}`).join(", ");
          const casts = spec.columns.map((col) => `${col.name}${CAST[col.kind] ?? ""}`).join(", ");
          await c.query(
            `INSERT INTO ${spec.name} (${cols}) ${spec.identity !== undefined ? "OVERRIDING SYSTEM VALUE " : ""}
             SELECT ${casts} FROM unnest(${unnest}) AS u(${cols})`,
            spec.columns.map((col, i) => rows.map((r) => toPg(col.kind, r[i] ?? null))),
          );
        },
      };
      const out = await fn(writer);
      // the next id handed out comes after every copied one
      for (const spec of LEDGER_TABLES) {
        if (spec.identity === undefined) continue;
        await c.query(
          `SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(${spec.identity}), 1), max(${spec.identity}) IS NOT NULL)
           FROM ${spec.name}`,
          [`${quote(this.db.schema)}.${spec.name}`, spec.identity],
        );
      }
      return out;
    });
  }

  /** A table's rows in key order, a page at a time (keyset on the primary key), inside the session's snapshot. */
  private async *pagesOf(c: pg.PoolClient, spec: TableSpec): AsyncGenerator<TableRow[]> {
    const order = spec.key.join(", ");
    const params = spec.key.map((_, i) => `$${i + 2}`).join(", ");
    const keyAt = spec.key.map((k) => spec.columns.findIndex((col) => col.name === k));
    let after: unknown[] | undefined;
    for (;;) {
      const { rows } = await c.query({
        text:
          after === undefined
            ? `SELECT ${selectList(spec)} FROM ${spec.name} ORDER BY ${order} LIMIT $1`
            : `SELECT ${selectList(spec)} FROM ${spec.name} WHERE (${order}) > (${params}) ORDER BY ${order} LIMIT $1`,
        values: [spec.pageRows, ...(after ?? [])],
        rowMode: "array",
      });
      const raw = rows as unknown[][];
      if (raw.length === 0) return;
      const last = raw[raw.length - 1]!;
      after = keyAt.map((i) => last[i]);
      yield raw.map((r) => spec.columns.map((col, i) => fromPg(col.kind, r[i])));
      if (raw.length < spec.pageRows) return;
    }
  }

  /**
   * One transaction on one connection, not retried: a copy streams into its destination as it reads, so
   * running it again would write twice (the caller starts the copy over instead).
   */
  private session<T>(begin: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.db.transaction(begin, fn);
  }
}
