import { copyFileSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { errorMessage } from "../../errors.js";
import { fsyncDir, fsyncFile } from "../../fsync.js";
import { copyTables } from "../ledger-copy.js";
import type { LedgerTables } from "../ledger-tables.js";
import type { MaintenanceStore, RestoreOutcome, StorageFacts } from "../maintenance-store.js";
import { ITEM_STATUSES } from "../types.js";
import { verifyDatabaseFile } from "../sqlite/maintenance-store.js";
import { migrate as migrateSqlite } from "../sqlite/migrations.js";
import { SqliteLedgerTables } from "../sqlite/tables.js";
import { SqliteVectorIndex } from "../sqlite/vector-index.js";
import { PG_SCHEMA_VERSION } from "./migrations.js";
import type { PgDatabase } from "./pg-database.js";
import { PgLedgerTables } from "./tables.js";

const PAGE = 8192;
const SIDECARS = ["-wal", "-shm", "-journal"];
const formatMb = (n: number): string => `${(n / 1024 ** 2).toFixed(1)} MB`;
const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** Rows that break what the stores rely on, for the thorough check (each query counts the offenders). */
const INVARIANTS: readonly { sql: string; one: string; many: string }[] = [
  {
    sql: "SELECT count(*) FROM items i WHERE NOT EXISTS (SELECT 1 FROM plans p WHERE p.id = i.plan_id)",
    one: "item refers to a plan that does not exist",
    many: "items refer to a plan that does not exist",
  },
  {
    sql: "SELECT count(*) FROM items WHERE status = 'PROCESSING' AND (lease_owner IS NULL OR lease_expires_at IS NULL)",
    one: "PROCESSING item has no lease",
    many: "PROCESSING items have no lease",
  },
  {
    sql: "SELECT count(*) FROM items WHERE status <> ALL ($1::text[])",
    one: "item has an unknown status",
    many: "items have an unknown status",
  },
  {
    sql: "SELECT count(*) FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = c.document_id)",
    one: "chunk refers to a document that does not exist",
    many: "chunks refer to a document that does not exist",
  },
  {
    sql: "SELECT count(*) FROM vectors v WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = v.document_id)",
    one: "vector refers to a document that does not exist",
    many: "vectors refer to a document that does not exist",
  },
  {
    sql: "SELECT count(*) FROM vectors WHERE coalesce(cardinality(vector), 0) <> dim",
    one: "vector's length differs from its dim",
    many: "vectors' lengths differ from their dim",
  },
  {
    sql: "SELECT count(*) FROM job_locks l LEFT JOIN lock_fences f ON f.job = l.job WHERE f.fence IS NULL OR l.fence > f.fence",
    one: "job lock holds a fence never handed out",
    many: "job locks hold a fence never handed out",
  },
];

/**
 * The PostgreSQL ledger's health. The server keeps its own files sound (WAL, checksums), so integrity is
 * about the schema and the rows; backups are SQLite ledger files written by copyLedger (the portable
 * form, which any machine opens), and a restore copies the newest sound one back into the schema.
 */
export class PgMaintenanceStore implements MaintenanceStore {
  readonly location: string;
  private readonly tables: LedgerTables;

  constructor(private readonly db: PgDatabase) {
    this.location = db.location;
    this.tables = new PgLedgerTables(db);
  }

  /** A schema is created (migrated) by the first statement: there is always a ledger to look at. */
  exists(): boolean {
    return true;
  }

  /**
   * Quick: the server answers, the schema is at this syncwarden's version and has every table and column.
   * Thorough: also the invariants the stores rely on (items of existing plans, leases on PROCESSING items,
   * chunks and vectors of existing documents, lock fences). No amcheck: it is an extension not every
   * server has, and the server's own page checks cover what it would.
   */
  async integrity(thorough: boolean): Promise<string[]> {
    try {
      // straight to the pool: a server that does not answer is the finding, not something to wait for
      await this.db.pool.query("SELECT 1");
    } catch (e) {
      return [`the PostgreSQL server does not answer: ${errorMessage(e)}`];
    }
    try {
      const problems: string[] = [];
      const [v] = await this.db.query<{ v: number | null }>(
        "SELECT max(version) AS v FROM schema_migrations",
      );
      if (v?.v !== PG_SCHEMA_VERSION)
        problems.push(
          `the schema ${this.db.schema} is at version ${v?.v ?? 0}, this syncwarden's is ${PG_SCHEMA_VERSION}`,
        );
      problems.push(...(await this.tables.checkSchema()));
      if (!thorough || problems.length > 0) return problems;
      for (const check of INVARIANTS) {
        const params = check.sql.includes("$1") ? [ITEM_STATUSES] : [];
        const [row] = await this.db.query<{ count: number }>(check.sql, params);
        const n = row?.count ?? 0;
        if (n > 0) problems.push(n === 1 ? `1 ${check.one}` : `${n} ${check.many}`);
      }
      return problems;
    } catch (e) {
      return [errorMessage(e)];
    }
  }

  /**
   * Bytes of the schema's tables with their indexes and TOAST; free pages estimated from the dead tuples
   * the statistics count (a table's pages in proportion to its dead share), since VACUUM makes them
   * reusable rather than returning them. There is no WAL of the ledger's own.
   */
  async size(): Promise<StorageFacts> {
    const [row] = await this.db.query<{ bytes: number; dead: number }>(
      `SELECT
         (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r') AS bytes,
         (SELECT coalesce(sum(pg_relation_size(s.relid) * s.n_dead_tup::float8
                              / nullif(s.n_live_tup + s.n_dead_tup, 0)), 0)::float8
            FROM pg_stat_user_tables s WHERE s.schemaname = $1) AS dead`,
      [this.db.schema],
    );
    const dbBytes = row?.bytes ?? 0;
    const pageCount = Math.ceil(dbBytes / PAGE);
    const freePages = Math.min(pageCount, Math.round((row?.dead ?? 0) / PAGE));
    return {
      dbBytes,
      walBytes: 0,
      pageCount,
      freePages,
      freeRatio: pageCount === 0 ? 0 : freePages / pageCount,
    };
  }

  /**
   * A SQLite ledger file at `dest`, copied from one snapshot of the schema by copyLedger (which checks
   * every table's count and checksum), then quick_check; written beside `dest` and renamed into place.
   */
  async backup(dest: string): Promise<void> {
    const tmp = `${dest}.tmp-${process.pid}`;
    const clean = (): void => {
      for (const s of ["", ...SIDECARS]) rmSync(tmp + s, { force: true });
    };
    clean();
    try {
      // rollback journal, not WAL: the file may be on a replica target's network mount; not synced until
      // it is whole (a crash leaves a temp file that is thrown away)
      const file = new Database(tmp);
      try {
        file.pragma("synchronous = OFF");
        file.pragma("foreign_keys = ON");
        migrateSqlite(file);
        await copyTables(this.tables, new SqliteLedgerTables(tmp, file, new SqliteVectorIndex(file)));
      } finally {
        file.close();
      }
      const problems = verifyDatabaseFile(tmp, false);
      if (problems.length > 0)
        throw new Error(`backup of ${this.location} failed quick_check: ${problems[0]!}`);
      fsyncFile(tmp);
      for (const s of SIDECARS) rmSync(dest + s, { force: true });
      renameSync(tmp, dest);
      fsyncDir(path.dirname(dest));
    } finally {
      clean();
    }
  }

  /**
   * VACUUM (ANALYZE) of every table of the schema: dead tuples become reusable space (and trailing empty
   * pages go back to the system), statistics are refreshed. Not VACUUM FULL: it would lock every table
   * against the workers while it rewrites them.
   */
  async compact(): Promise<{
    message: string;
    details: StorageFacts & { vacuumed: boolean; before: StorageFacts };
  }> {
    const before = await this.size();
    const tables = (
      await this.db.query<{ name: string }>(
        "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
        [this.db.schema],
      )
    ).map((t) => `"${this.db.schema}"."${t.name}"`);
    if (tables.length > 0) await this.db.query(`VACUUM (ANALYZE) ${tables.join(", ")}`);
    const after = await this.size();
    const message = `VACUUM (ANALYZE) of ${plural(tables.length, "table", "tables")} in schema ${this.db.schema} (${formatMb(before.dbBytes)} → ${formatMb(after.dbBytes)}; dead-tuple pages, estimated, ${before.freePages} → ${after.freePages})`;
    return { message, details: { ...after, vacuumed: true, before } };
  }

  /**
   * Each candidate SQLite backup, newest first, is copied to a temp folder (the candidate itself is never
   * touched) and checked there (quick_check, schema); the first sound one replaces everything the schema
   * holds, in one transaction (a failed copy leaves the schema as it was).
   */
  async restore(candidates: readonly { file: string; at: number }[]): Promise<RestoreOutcome> {
    const rejected: RestoreOutcome["rejected"] = [];
    const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-restore-"));
    try {
      for (const snap of [...candidates].sort((a, b) => b.at - a.at)) {
        const temp = path.join(dir, `candidate-${rejected.length}.db`);
        let problem: string | undefined;
        try {
          copyFileSync(snap.file, temp);
          problem = verifyDatabaseFile(temp, false)[0];
        } catch (e) {
          // a replica target can vanish (unmounted) between listing and copying
          problem = `cannot copy it: ${errorMessage(e)}`;
        }
        if (problem === undefined) {
          try {
            const file = new Database(temp);
            try {
              migrateSqlite(file);
              await copyTables(new SqliteLedgerTables(temp, file), this.tables, { replace: true });
            } finally {
              file.close();
            }
          } catch (e) {
            problem = `cannot copy it into ${this.location}: ${errorMessage(e)}`;
          }
        }
        if (problem !== undefined) {
          rejected.push({ file: snap.file, problem });
          continue;
        }
        return {
          restored: true,
          from: snap.file,
          movedAside: [],
          rejected,
          message: `restored the ledger in ${this.location} from ${snap.file} (everything the schema held was replaced)`,
        };
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      restored: false,
      movedAside: [],
      rejected,
      message:
        rejected.length === 0
          ? "no snapshot found in backups/ or on a replica target; the schema was left as it was"
          : `no snapshot passed its checks (${rejected.length} rejected); the schema was left as it was`,
    };
  }
}
