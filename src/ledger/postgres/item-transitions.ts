import type pg from "pg";
import type { ItemFilter } from "../plan-store.js";
import type { ClaimedItem, PlannedItem, Settlement } from "../types.js";
import type { PgDocumentWriter } from "./document-writer.js";
import { FILTER, filterParams, T, WITH_NOW } from "./item-queries.js";
import { toJsonb } from "./jsonb.js";
import { millis } from "./millis.js";
import { NOW, type PgDatabase } from "./pg-database.js";

/** Rows per multi-row insert of a plan's items (a few MB of parameters per statement). */
const RECORD_CHUNK = 5_000;

/**
 * Due rows of one kind, in id order along items_claim, locked as the claim pulls them (SKIP LOCKED: rows
 * another claimer holds are passed over, and a row that changed under us is re-checked against the
 * predicate before it is taken, so no item goes to two owners).
 */
const due = (predicate: string): string =>
  `SELECT id FROM (SELECT id FROM items WHERE plan_id = $1 AND ${predicate} ORDER BY id LIMIT $4
     FOR UPDATE SKIP LOCKED) d`;

/**
 * A claim in one statement: FAILED past its backoff first, then PENDING (not deferred), up to the limit,
 * leased and fenced, each with the key's last completed version.
 */
const CLAIM = `${WITH_NOW},
  picked AS (
    ${due(`status = 'FAILED' AND next_attempt_at <= ${T}`)}
    UNION ALL
    ${due(`status = 'PENDING' AND (next_attempt_at IS NULL OR next_attempt_at <= ${T})`)}
    LIMIT $4
  )
  UPDATE items i SET status = 'PROCESSING', lease_owner = $2, lease_expires_at = ${T} + $3,
    fence = i.fence + 1, updated_at = ${T}
  FROM picked WHERE i.id = picked.id
  RETURNING i.id, i.key, i.version, i.op, i.fence, i.attempts, i.meta,
    (SELECT f.version FROM fingerprints f
     WHERE f.job = i.job AND f.phase = i.phase AND f.key = i.key) AS prev`;

/**
 * A batch of settlements in one statement: each lands only while its item is PROCESSING under its fence
 * (a holder whose lease was taken over changes nothing); the accepted completions then set or delete
 * their key's fingerprint (the last settlement of a key wins) and clear the key's old debts. The rows
 * are found by primary key (= ANY); PROCESSING is compared through `s` so that the planner never finds
 * them through items_status, whose PROCESSING range keeps an entry for every row ever claimed until a
 * vacuum (a stale estimate made it pick that scan, which grew with the plan).
 */
const SETTLE = `${WITH_NOW},
  s AS MATERIALIZED (
    SELECT *, 'PROCESSING' AS held
    FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
      $8::bigint[], $9::text[], $10::text[], $11::text[], $12::boolean[], $13::text[], $14::boolean[])
      WITH ORDINALITY AS s(id, fence, status, reason, error_class, error_message, attempts, retry_in,
        job, phase, key, fp_set, fp, clear_debts, n)
  ),
  done AS (
    UPDATE items i SET status = s.status, reason = s.reason, error_class = s.error_class,
      error_message = s.error_message, attempts = COALESCE(s.attempts, i.attempts),
      next_attempt_at = ${T} + s.retry_in, lease_owner = NULL, lease_expires_at = NULL, updated_at = ${T}
    FROM s WHERE i.id = ANY($1::bigint[]) AND i.id = s.id AND i.fence = s.fence AND i.status = s.held
    RETURNING s.n
  ),
  accepted AS (SELECT s.* FROM s JOIN done USING (n)),
  fp AS (
    SELECT DISTINCT ON (job, phase, key) job, phase, key, fp FROM accepted WHERE fp_set
    ORDER BY job, phase, key, n DESC
  ),
  fp_set AS (
    INSERT INTO fingerprints (job, phase, key, version, updated_at)
    SELECT job, phase, key, fp, ${T} FROM fp WHERE fp IS NOT NULL
    ON CONFLICT (job, phase, key) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at
  ),
  fp_gone AS (
    DELETE FROM fingerprints f USING fp
    WHERE fp.fp IS NULL AND f.job = fp.job AND f.phase = fp.phase AND f.key = fp.key
  ),
  paid AS (
    DELETE FROM debts d USING accepted a
    WHERE a.clear_debts AND d.job = a.job AND d.phase = a.phase AND d.key = a.key
  )
  SELECT n FROM done`;

/** How many rows a data-modifying statement touched, counted in the server (no row shipped back). */
const counted = (sql: string): string =>
  `${WITH_NOW}, changed AS (${sql} RETURNING 1) SELECT count(*) AS n FROM changed`;

interface ClaimRow {
  id: number;
  key: string;
  version: string | null;
  op: "upsert" | "delete";
  fence: number;
  attempts: number;
  meta: Record<string, unknown> | null;
  prev: string | null;
}

const toClaimed = (r: ClaimRow): ClaimedItem => ({
  id: r.id,
  key: r.key,
  version: r.version,
  op: r.op,
  fence: r.fence,
  attempts: r.attempts,
  prevVersion: r.prev,
  meta: r.meta ?? undefined,
});

/** An error message as TEXT stores it: PostgreSQL refuses NUL (SQLite keeps it); the settlement must land. */
// eslint-disable-next-line no-control-regex -- NUL is what it replaces
const textOf = (v: string | undefined): string | null => v?.replace(/\u0000/g, "\uFFFD") ?? null;

const isDone = (s: Settlement): boolean => s.status === "COMPLETED" || s.status === "SKIPPED";
/** A fully enriched completion (or a deletion) pays every old debt of its key and records what it owes. */
const clearsDebts = (s: Settlement): boolean =>
  s.status === "COMPLETED" && (s.enriched === true || s.fingerprint === null);

/** An id settled twice in one batch: the first lands, the second would find the item no longer PROCESSING. */
function unique(settlements: readonly Settlement[]): Settlement[] {
  const seen = new Set<number>();
  return settlements.filter((s) => !seen.has(s.id) && seen.add(s.id));
}

/** SETTLE's parameters: one array per column, in the batch's order. */
function settleParams(batch: readonly Settlement[]): unknown[] {
  const done = batch.map(isDone);
  return [
    batch.map((s) => s.id),
    batch.map((s) => s.fence),
    batch.map((s) => s.status),
    batch.map((s) => s.reason ?? null),
    batch.map((s, i) => (done[i] ? null : (s.errorClass ?? null))),
    batch.map((s, i) => (done[i] ? null : textOf(s.errorMessage))),
    batch.map((s, i) => (done[i] ? null : (s.attempts ?? 0))),
    batch.map((s, i) => (done[i] || s.retryInMs === undefined ? null : millis(s.retryInMs))),
    batch.map((s) => s.job),
    batch.map((s) => s.phase),
    batch.map((s) => s.key),
    batch.map((s, i) => done[i]! && s.fingerprint !== undefined),
    batch.map((s) => (typeof s.fingerprint === "string" ? s.fingerprint : null)),
    batch.map(clearsDebts),
  ];
}

/** Item transitions: record, claim (lease + fence), settle in batches, move leases, requeue. */
export class ItemTransitions {
  constructor(
    private readonly db: PgDatabase,
    private readonly documents: PgDocumentWriter,
  ) {}

  /** Records items in one transaction, multi-row inserts in list order; a key already there is kept. */
  async record(planId: number, job: string, phase: string, items: readonly PlannedItem[]): Promise<void> {
    if (items.length === 0) return;
    await this.db.tx(async (c) => {
      const now = (await c.query<{ t: number }>(`SELECT ${NOW} AS t`)).rows[0]!.t;
      for (let at = 0; at < items.length; at += RECORD_CHUNK) {
        const chunk = items.slice(at, at + RECORD_CHUNK);
        await c.query(
          `INSERT INTO items (plan_id, job, phase, key, version, op, meta, updated_at)
           SELECT $1, $2, $3, key, version, op, meta::jsonb, $4
           FROM unnest($5::text[], $6::text[], $7::text[], $8::text[])
             WITH ORDINALITY AS x(key, version, op, meta, n)
           ORDER BY n
           ON CONFLICT (plan_id, key, op) DO NOTHING`,
          [
            planId,
            job,
            phase,
            now,
            chunk.map((i) => i.key),
            chunk.map((i) => i.version),
            chunk.map((i) => i.op),
            chunk.map((i) => (i.meta === undefined ? null : toJsonb(i.meta))),
          ],
        );
      }
    });
  }

  /** Settlements carried by the claim first, then the claim: one transaction, one commit. */
  claim(
    planId: number,
    owner: string,
    leaseMs: number,
    limit: number,
    settle: readonly Settlement[],
  ): Promise<ClaimedItem[]> {
    const params = [planId, owner, millis(leaseMs), limit];
    const claimed = (rows: ClaimRow[]): ClaimedItem[] => rows.map(toClaimed).sort((a, b) => a.id - b.id);
    if (settle.length === 0)
      return limit > 0 ? this.alone<ClaimRow>(CLAIM, params).then(claimed) : Promise.resolve([]);
    return this.db.tx(async (c) => {
      await this.settleRows(c, settle);
      return limit > 0 ? claimed((await c.query<ClaimRow>(CLAIM, params)).rows) : [];
    });
  }

  /**
   * One transaction for the batch: status, fingerprint, debts and document writes commit together (a batch
   * with neither debts nor documents is one statement, committed alone).
   */
  async settle(settlements: readonly Settlement[]): Promise<void> {
    if (settlements.length === 0) return;
    if (settlements.some((s) => (s.writes?.length ?? 0) > 0 || (s.debts?.length ?? 0) > 0))
      await this.db.tx((c) => this.settleRows(c, settlements));
    else await this.alone(SETTLE, settleParams(unique(settlements)));
  }

  /** The settlements' writes, in the caller's transaction; only accepted ones write debts and documents. */
  private async settleRows(c: pg.PoolClient, settlements: readonly Settlement[]): Promise<void> {
    const batch = unique(settlements);
    const { rows } = await c.query<{ n: number }>(SETTLE, settleParams(batch));
    if (rows.length === 0) return;
    // in the batch's order, as SQLite applies them
    const accepted = rows
      .map((r) => r.n - 1)
      .sort((a, b) => a - b)
      .map((i) => batch[i]!);
    await this.recordDebts(c, accepted.filter(clearsDebts));
    const writes = accepted.filter(isDone).flatMap((s) => s.writes ?? []);
    if (writes.length > 0) await this.documents.apply(c, writes);
  }

  /** What accepted completions owe; a key's last settlement in the batch decides (its clear came last). */
  private async recordDebts(c: pg.PoolClient, clearing: readonly Settlement[]): Promise<void> {
    const last = new Map<string, Settlement>();
    for (const s of clearing) last.set(JSON.stringify([s.job, s.phase, s.key]), s);
    const debts = [...last.values()].flatMap((s) => (s.debts ?? []).map((d) => ({ s, d })));
    if (debts.length === 0) return;
    await c.query(
      `INSERT INTO debts (job, phase, key, version, step, provider, reason, created_at, updated_at)
       SELECT job, phase, key, version, step, provider, reason, t, t
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[])
         WITH ORDINALITY AS d(job, phase, key, version, step, provider, reason, n),
         (SELECT ${NOW} AS t) now
       ORDER BY n`,
      [
        debts.map(({ s }) => s.job),
        debts.map(({ s }) => s.phase),
        debts.map(({ s }) => s.key),
        debts.map(({ s }) => s.fingerprint ?? ""),
        debts.map(({ d }) => d.step),
        debts.map(({ d }) => d.provider),
        debts.map(({ d }) => d.reason),
      ],
    );
  }

  requeueExpired(planId: number | undefined): Promise<number> {
    return this.changes(
      `UPDATE items SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, updated_at = ${T}
       WHERE status = 'PROCESSING' AND lease_expires_at < ${T} AND ($1::bigint IS NULL OR plan_id = $1)`,
      [planId ?? null],
    );
  }

  // by plan and status, so the claim index serves them and no index on lease_owner has to be kept up
  async heartbeat(planId: number, owner: string, leaseMs: number): Promise<void> {
    await this.changes(
      `UPDATE items SET lease_expires_at = ${T} + $1
       WHERE plan_id = $2 AND status = 'PROCESSING' AND lease_owner = $3`,
      [millis(leaseMs), planId, owner],
    );
  }

  release(planId: number, owner: string): Promise<number> {
    return this.changes(
      `UPDATE items SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, updated_at = ${T}
       WHERE plan_id = $1 AND status = 'PROCESSING' AND lease_owner = $2`,
      [planId, owner],
    );
  }

  hastenDeferred(planId: number): Promise<number> {
    return this.changes(
      `UPDATE items SET next_attempt_at = ${T}, updated_at = ${T}
       WHERE plan_id = $1 AND status = 'PENDING' AND reason = 'deferred' AND error_class = 'unavailable'
         AND next_attempt_at > ${T}`,
      [planId],
    );
  }

  /** Back to PENDING with a fresh attempt budget (a redrive). */
  requeue(filter: ItemFilter): Promise<number> {
    return this.changes(
      `UPDATE items SET status = 'PENDING', attempts = 0, next_attempt_at = NULL, error_class = NULL,
         error_message = NULL, reason = NULL, updated_at = ${T}
       WHERE ${FILTER}`,
      filterParams(filter),
    );
  }

  /**
   * Runs an UPDATE (the clock read once as `now`) and says how many rows it changed.
   */
  private async changes(sql: string, params: unknown[]): Promise<number> {
    return (await this.alone<{ n: number }>(counted(sql), params))[0]!.n;
  }

  /**
   * One statement as its own transaction (one round trip where BEGIN … COMMIT takes three), run again
   * when it was chosen to break a deadlock (with a settlement over the same rows): it then changed nothing.
   */
  private async alone<R extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<R[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.query<R>(sql, params);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (attempt >= 10 || (code !== "40P01" && code !== "40001")) throw e;
        await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * attempt));
      }
    }
  }
}
