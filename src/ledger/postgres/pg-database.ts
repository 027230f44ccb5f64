import pg from "pg";
import { ConfigError } from "../../errors.js";
import { migrate } from "./migrations.js";

/** The ledger's clock in SQL: milliseconds since the epoch as the server sees them, at the statement (not the transaction's start). */
export const NOW = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/** Where a PostgreSQL ledger lives: a server and a schema of it (several deployments share one database). */
export interface PostgresLedgerConfig {
  url: string;
  /** Default `syncwarden`. */
  schema?: string;
  /** Connections of this process's pool (default 10). */
  poolSize?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "postgres://…";
  }
}

/** Error codes of PostgreSQL worth one more try of the whole transaction. */
const RETRYABLE = new Set(["40001", "40P01"]);
/** Error codes (and node errors) of a server that is restarting or unreachable: wait and try again. */
const UNAVAILABLE = new Set(["57P01", "57P02", "57P03", "08000", "08003", "08006", "08001", "08004"]);
const NODE_UNAVAILABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

export function isUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && (UNAVAILABLE.has(code) || NODE_UNAVAILABLE.has(code))) return true;
  const message = e instanceof Error ? e.message : "";
  return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(message);
}

/**
 * One process's handle on a PostgreSQL ledger: a pool whose connections see the ledger's schema first,
 * migrated once before the first statement. A server that restarts or cannot be reached is waited for
 * (up to `unavailableMs`), so a database restart pauses the workers rather than failing their items.
 */
export class PgDatabase {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly location: string;
  private readonly ready: Promise<void>;
  private closed = false;

  constructor(
    config: PostgresLedgerConfig,
    private readonly unavailableMs = 60_000,
  ) {
    const schema = config.schema ?? "syncwarden";
    if (!SCHEMA_NAME.test(schema))
      throw new ConfigError(
        `ledger.schema "${schema}" is not a plain PostgreSQL name (lower-case letters, digits, _; at most 63)`,
      );
    this.schema = schema;
    this.location = `${redactUrl(config.url)} (schema ${schema})`;
    this.pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize ?? 10,
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 10_000,
      application_name: "syncwarden",
      types: { getTypeParser: typeParser },
    });
    // an idle connection that the server dropped (a restart) must not crash the process
    this.pool.on("error", () => undefined);
    this.ready = this.retrying(() => migrate(this.pool, schema));
    this.ready.catch(() => undefined);
  }

  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
  ): Promise<R[]> {
    await this.ready;
    return this.retrying(async () => (await this.pool.query<R>(sql, params)).rows);
  }

  /**
   * Runs `fn` in one transaction on one connection; a serialization failure or deadlock runs it again,
   * and so does a server that went away before the commit was sent (the transaction rolled back).
   */
  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.ready;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.retrying(() => this.transaction("BEGIN", fn));
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (attempt < 10 && typeof code === "string" && RETRYABLE.has(code)) {
          await sleep(5 + Math.random() * 20 * (attempt + 1));
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * One try of one transaction opened by `begin` (BEGIN, or BEGIN with an isolation level) on one
   * connection: committed when `fn` resolves, rolled back when it throws; a connection the server cut
   * is discarded rather than returned to the pool.
   */
  async transaction<T>(begin: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.ready;
    const c = await this.pool.connect();
    let broken = false;
    try {
      await c.query(begin);
      const out = await fn(c);
      await c.query("COMMIT");
      return out;
    } catch (e) {
      broken = isUnavailable(e);
      if (!broken) await c.query("ROLLBACK").catch(() => (broken = true));
      throw e;
    } finally {
      c.release(broken ? true : undefined);
    }
  }

  /** Streams a query's rows in pages of `page` through a cursor-free keyset (`after` is the last key). */
  async *pages<R extends pg.QueryResultRow, K>(
    page: (after: K | undefined) => Promise<R[]>,
    keyOf: (row: R) => K,
  ): AsyncGenerator<R> {
    let after: K | undefined;
    for (;;) {
      const rows = await page(after);
      if (rows.length === 0) return;
      yield* rows;
      after = keyOf(rows[rows.length - 1]!);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.ready.catch(() => undefined);
    await this.pool.end();
  }

  private async retrying<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.unavailableMs;
    for (let wait = 100; ; wait = Math.min(wait * 2, 2_000)) {
      try {
        return await fn();
      } catch (e) {
        if (this.closed || !isUnavailable(e) || Date.now() + wait > deadline) throw e;
        await sleep(wait);
      }
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** BIGINT (ms stamps, ids, fences) and NUMERIC read as numbers; the rest as pg reads them. */
const defaultParser: (oid: number) => (value: string) => unknown = pg.types.getTypeParser;
function typeParser(oid: number): (value: string) => unknown {
  if (oid === 20 || oid === 1700) return Number;
  return defaultParser(oid);
}
