import { createHash } from "node:crypto";
import type { Ledger } from "./ledger.js";
import {
  LEDGER_TABLES,
  type CellValue,
  type LedgerTables,
  type TableReader,
  type TableRow,
  type TableSpec,
} from "./ledger-tables.js";

/** A table as copied: its rows and a checksum of them that does not depend on their order or on the implementation. */
export interface TableTally {
  rows: number;
  checksum: string;
}

export interface CopyResult {
  /** Per table, in LEDGER_TABLES order: what was read from the source (and found again in the destination). */
  tables: Record<string, TableTally>;
  /** Rows copied in all. */
  rows: number;
}

export interface CopyOptions {
  /** Empty a destination that holds rows first (default: refuse it). */
  replace?: boolean;
  /** Called after each page a table copied. */
  onProgress?: (p: { table: string; rows: number }) => void;
}

/** The destination holds rows and the copy was not asked to replace them. */
export class LedgerNotEmptyError extends Error {
  constructor(
    readonly location: string,
    readonly counts: Record<string, number>,
  ) {
    const held = Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([t, n]) => `${t}: ${n}`)
      .join(", ");
    super(
      `the destination ledger ${location} is not empty (${held}); copy into an empty ledger, or replace what it holds`,
    );
    this.name = "LedgerNotEmptyError";
  }
}

/** A ledger's table access (an implementation offers it as `ledger.tables`). */
function tablesOf(ledger: Ledger): LedgerTables {
  if (ledger.tables === undefined)
    throw new Error(`the ledger at ${ledger.location} offers no table access to copy`);
  return ledger.tables;
}

/**
 * Copies everything `from` holds into `to` (SQLite ↔ PostgreSQL, either way): every table of
 * LEDGER_TABLES with its ids (so items, plans and documents still refer to each other), read from one
 * snapshot of `from` and written a page at a time (memory stays flat). The destination must be empty
 * unless `replace`. Afterwards the destination is read back: each table's row count and checksum must
 * equal the source's, or the copy fails saying which table differs.
 */
export async function copyLedger(from: Ledger, to: Ledger, options: CopyOptions = {}): Promise<CopyResult> {
  return copyTables(tablesOf(from), tablesOf(to), options);
}

/** copyLedger on the implementations' table access (the PostgreSQL ledger's backup and restore use it directly). */
export async function copyTables(
  from: LedgerTables,
  to: LedgerTables,
  options: CopyOptions = {},
): Promise<CopyResult> {
  if (from.location === to.location)
    throw new Error(`cannot copy the ledger at ${from.location} onto itself`);
  for (const [side, t] of [
    ["source", from],
    ["destination", to],
  ] as const) {
    const problems = await t.checkSchema();
    if (problems.length > 0)
      throw new Error(`cannot copy: the ${side} ledger ${t.location} has ${problems.join("; ")}`);
  }
  const tables = await from.read((reader) =>
    to.write(async (writer) => {
      const counts = await writer.counts();
      if (Object.values(counts).some((n) => n > 0)) {
        if (options.replace !== true) throw new LedgerNotEmptyError(to.location, counts);
        await writer.clear();
      }
      return tally(reader, async (spec, page, rows) => {
        await writer.insert(spec, page);
        options.onProgress?.({ table: spec.name, rows });
      });
    }),
  );
  const copied = await ledgerTallies(to);
  const differ = LEDGER_TABLES.filter((t) => {
    const a = tables[t.name]!;
    const b = copied[t.name]!;
    return a.rows !== b.rows || a.checksum !== b.checksum;
  }).map((t) => `${t.name} (${tables[t.name]!.rows} rows read, ${copied[t.name]!.rows} found)`);
  if (differ.length > 0)
    throw new Error(`the copy in ${to.location} differs from ${from.location}: ${differ.join(", ")}`);
  return { tables, rows: Object.values(tables).reduce((n, t) => n + t.rows, 0) };
}

/** Every table's row count and checksum, from one snapshot. */
export async function ledgerTallies(tables: LedgerTables): Promise<Record<string, TableTally>> {
  return tables.read((reader) => tally(reader));
}

async function tally(
  reader: TableReader,
  onPage?: (spec: TableSpec, page: TableRow[], rowsSoFar: number) => Promise<void>,
): Promise<Record<string, TableTally>> {
  const out: Record<string, TableTally> = {};
  for (const spec of LEDGER_TABLES) {
    const sum = new Checksum(spec);
    for await (const page of reader.pages(spec)) {
      for (const row of page) sum.add(row);
      await onPage?.(spec, page, sum.rows);
    }
    out[spec.name] = { rows: sum.rows, checksum: sum.hex() };
  }
  return out;
}

/**
 * Order-independent: each row's SHA-256 (its first 16 bytes, as four 32-bit lanes) summed lane by lane
 * (mod 2^32) over its canonical form, in which JSON is compared by value (keys sorted) and a vector by
 * its float32 bytes.
 */
class Checksum {
  rows = 0;
  private readonly lanes = new Uint32Array(4);

  constructor(private readonly spec: TableSpec) {}

  add(row: TableRow): void {
    const canonical = this.spec.columns.map((c, i) => canonicalCell(c.kind, row[i] ?? null));
    const digest = createHash("sha256").update(JSON.stringify(canonical)).digest();
    for (let i = 0; i < 4; i++) this.lanes[i] = this.lanes[i]! + digest.readUInt32BE(i * 4);
    this.rows++;
  }

  hex(): string {
    return Array.from(this.lanes, (n) => n.toString(16).padStart(8, "0")).join("");
  }
}

function canonicalCell(kind: string, v: CellValue): unknown {
  if (v === null) return null;
  if (kind === "vector") {
    const f = v as Float32Array;
    return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString("base64");
  }
  if (kind === "json") {
    try {
      return { json: sortKeys(JSON.parse(v as string)) };
    } catch {
      return { text: v };
    }
  }
  return v;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}
