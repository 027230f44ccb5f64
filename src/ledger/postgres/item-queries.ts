import { itemRow } from "../rows.js";
import type { ItemFilter } from "../plan-store.js";
import {
  ITEM_STATUSES,
  type ItemRow,
  type ItemStatus,
  type LeaseCount,
  type LeaseHolder,
  type StatusCounts,
} from "../types.js";
import { millis } from "./millis.js";
import { NOW, type PgDatabase } from "./pg-database.js";

/** Rows per page of a streamed listing. */
const PAGE = 500;

/** One reading of the ledger's clock per statement (NOW itself reads the clock again at every row). */
export const WITH_NOW = `WITH now AS (SELECT ${NOW} AS t)`;
export const T = "(SELECT t FROM now)";

/** An ItemFilter as SQL over $1 (statuses), $2 (job or null) and $3 (olderThanMs or null). */
export const FILTER = `status = ANY($1::text[]) AND ($2::text IS NULL OR job = $2)
  AND ($3::bigint IS NULL OR updated_at <= ${T} - $3) AND ($4::bigint[] IS NULL OR id = ANY($4::bigint[]))`;
export const filterParams = (f: ItemFilter): unknown[] => [
  f.statuses,
  f.job ?? null,
  f.olderThanMs === undefined ? null : millis(f.olderThanMs),
  f.ids ?? null,
];

/** What the ledger can tell of items without changing them: counts, lease holders, listings. */
export class ItemQueries {
  constructor(private readonly db: PgDatabase) {}

  async leaseOwners(planId: number): Promise<string[]> {
    const rows = await this.db.query<{ owner: string }>(
      `SELECT DISTINCT lease_owner AS owner FROM items
       WHERE plan_id = $1 AND status = 'PROCESSING' AND lease_owner IS NOT NULL`,
      [planId],
    );
    return rows.map((r) => r.owner);
  }

  leaseHolders(planId: number): Promise<LeaseHolder[]> {
    return this.db.query<LeaseHolder>(
      `SELECT lease_owner AS owner, count(*) AS items, max(lease_expires_at) AS "expiresAt" FROM items
       WHERE plan_id = $1 AND status = 'PROCESSING' AND lease_owner IS NOT NULL
       GROUP BY lease_owner ORDER BY items DESC, owner`,
      [planId],
    );
  }

  expiredLeases(): Promise<LeaseCount[]> {
    return this.db.query<LeaseCount>(
      `${WITH_NOW} SELECT job, phase, count(*) AS n FROM items
       WHERE status = 'PROCESSING' AND lease_expires_at < ${T} GROUP BY job, phase ORDER BY job, phase`,
    );
  }

  async count(planId: number): Promise<StatusCounts> {
    const counts = Object.fromEntries(ITEM_STATUSES.map((s) => [s, 0])) as StatusCounts;
    const rows = await this.db.query<{ status: ItemStatus; n: number }>(
      "SELECT status, count(*) AS n FROM items WHERE plan_id = $1 GROUP BY status",
      [planId],
    );
    for (const { status, n } of rows) counts[status] = n;
    return counts;
  }

  async countReasons(planId: number, status: ItemStatus): Promise<Record<string, number>> {
    const rows = await this.db.query<{ reason: string | null; n: number }>(
      "SELECT reason, count(*) AS n FROM items WHERE plan_id = $1 AND status = $2 GROUP BY reason",
      [planId, status],
    );
    return Object.fromEntries(rows.map((r) => [r.reason ?? "unspecified", r.n]));
  }

  async countByJob(status: ItemStatus): Promise<Record<string, number>> {
    const rows = await this.db.query<{ job: string; n: number }>(
      "SELECT job, count(*) AS n FROM items WHERE status = $1 GROUP BY job ORDER BY job",
      [status],
    );
    return Object.fromEntries(rows.map((r) => [r.job, r.n]));
  }

  async nextAttemptIn(planId: number): Promise<number | undefined> {
    const rows = await this.db.query<{ wait: number | null }>(
      `SELECT min(next_attempt_at) - ${NOW} AS wait FROM items
       WHERE plan_id = $1 AND status IN ('FAILED', 'PENDING')`,
      [planId],
    );
    const wait = rows[0]?.wait ?? null;
    return wait === null ? undefined : Math.max(0, wait);
  }

  /** Item rows in id order, a keyset page at a time (memory stays flat). */
  list(filter: ItemFilter): AsyncIterable<ItemRow> {
    const params = filterParams(filter);
    const rows = this.db.pages<Record<string, unknown>, number>(
      (after) =>
        this.db.query(
          `${WITH_NOW} SELECT id, plan_id, job, phase, key, version, op, status, attempts, reason, error_class,
             error_message, next_attempt_at, updated_at
           FROM items WHERE ${FILTER} AND id > $5 ORDER BY id LIMIT ${PAGE}`,
          [...params, after ?? filter.afterId ?? 0],
        ),
      (r) => r.id as number,
    );
    return mapRows(rows);
  }
}

async function* mapRows(rows: AsyncIterable<Record<string, unknown>>): AsyncIterable<ItemRow> {
  for await (const r of rows) yield itemRow(r);
}
