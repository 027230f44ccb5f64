import type pg from "pg";
import type { CallState, Reading, ResilienceStore } from "../resilience-store.js";
import type { BreakerRecord, BreakerState, DebtRecord, GateRecord } from "../types.js";
import { millis } from "./millis.js";
import { NOW, type PgDatabase } from "./pg-database.js";
import { debtRecord, toBreaker, toGate, type BreakerRow, type GateRow } from "../rows.js";

interface CallRow {
  now: number;
  state: BreakerState | null;
  failures: number | null;
  open_until: number | null;
  isolated: boolean | null;
  paused_until: number | null;
}

/**
 * Makes the current transaction's commit return before its WAL is flushed (a column of a statement it
 * runs anyway, so no round trip of its own). Breakers, probes, gates and buckets are soft state written
 * on a call's path (a token, a bulkhead slot): a server crash may lose its last fraction of a second (a
 * few extra calls, one more probe), as SQLite's synchronous=NORMAL may lose it to a power cut, and it is
 * never torn; waiting for the disk would cost every call a flush. Debts, runs and locks commit durably.
 */
const SOFT_COMMIT = "set_config('synchronous_commit', 'off', true)";

const BREAKER_COLUMNS =
  "provider, state, failures, successes, opened_at, open_until, reopen_count, isolated, reason, updated_at";
const GATE_COLUMNS = "provider, paused_until, reason, tokens, refilled_at, updated_at";

/**
 * Breakers, probe leases, rate gates, token buckets and debts: state every worker on every machine
 * shares. Each read-modify-write is one transaction holding the row it changes; a row that does not
 * exist yet is created under a transaction-scoped advisory lock on its key, so two creators queue.
 */
export class PgResilienceStore implements ResilienceStore {
  constructor(private readonly db: PgDatabase) {}

  async readCallState(provider: string): Promise<CallState> {
    const [r] = await this.db.query<CallRow>(
      `SELECT ${NOW} AS now, b.state, b.failures, b.open_until, b.isolated, g.paused_until
       FROM (SELECT 1) one LEFT JOIN breakers b ON b.provider = $1 LEFT JOIN rate_gates g ON g.provider = $1`,
      [provider],
    );
    const { now, state, failures, open_until: openUntil, isolated, paused_until: pausedUntil } = r!;
    return {
      now,
      ...(state === null
        ? {}
        : { breaker: { state, failures: failures ?? 0, openUntil, isolated: isolated === true } }),
      pausedUntil: pausedUntil ?? 0,
    };
  }

  async readBreaker(provider: string): Promise<Reading<BreakerRecord>> {
    const [row] = await this.db.query<BreakerRow & { now: number }>(
      `SELECT ${NOW} AS now, b.* FROM (SELECT 1) one LEFT JOIN breakers b ON b.provider = $1`,
      [provider],
    );
    return { record: (row!.provider as string | null) === null ? undefined : toBreaker(row!), now: row!.now };
  }

  async listBreakers(): Promise<BreakerRecord[]> {
    const rows = await this.db.query<BreakerRow>(
      `SELECT ${BREAKER_COLUMNS} FROM breakers ORDER BY provider COLLATE "C"`,
    );
    return rows.map(toBreaker);
  }

  /**
   * Read-modify-write in one transaction holding the breaker's row (or, before it exists, the advisory
   * lock of its creation), so two workers never interleave a transition; `change` sees the clock read
   * after the row was ours.
   */
  updateBreaker(
    provider: string,
    change: (current: BreakerRecord | undefined, now: number) => BreakerRecord | undefined,
  ): Promise<BreakerRecord | undefined> {
    return this.db.tx(async (c) => {
      const row = await lockRow<BreakerRow>(
        c,
        `SELECT ${BREAKER_COLUMNS} FROM breakers WHERE provider = $1 FOR UPDATE`,
        provider,
        "breaker:",
      );
      const record = row && toBreaker(row);
      const changed = change(record, await softNow(c));
      if (!changed) return record;
      // as stored: whole milliseconds
      const next: BreakerRecord = {
        ...changed,
        openedAt: millis(changed.openedAt),
        openUntil: millis(changed.openUntil),
        updatedAt: millis(changed.updatedAt),
      };
      await c.query(
        `INSERT INTO breakers (${BREAKER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (provider) DO UPDATE SET state = excluded.state, failures = excluded.failures,
           successes = excluded.successes, opened_at = excluded.opened_at, open_until = excluded.open_until,
           reopen_count = excluded.reopen_count, isolated = excluded.isolated, reason = excluded.reason,
           updated_at = excluded.updated_at`,
        [
          next.provider,
          next.state,
          next.failures,
          next.successes,
          next.openedAt,
          next.openUntil,
          next.reopenCount,
          next.isolated,
          next.reason,
          next.updatedAt,
        ],
      );
      return next;
    });
  }

  /** Probes of one provider are counted and taken under its advisory lock: at most `max` across processes. */
  acquireProbe(provider: string, owner: string, max: number, leaseMs: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('probe:' || $1)), ${SOFT_COMMIT}`, [provider]);
      const { rows } = await c.query<{ live: number; now: number }>(
        `WITH t AS (SELECT ${NOW} AS now),
           gone AS (DELETE FROM breaker_probes USING t WHERE provider = $1 AND expires_at < t.now)
         SELECT COUNT(p.owner) AS live, t.now FROM t
           LEFT JOIN breaker_probes p ON p.provider = $1 AND p.expires_at >= t.now
         GROUP BY t.now`,
        [provider],
      );
      const { live, now } = rows[0]!;
      if (live >= max) return false;
      await c.query(
        `INSERT INTO breaker_probes (provider, owner, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (provider, owner) DO UPDATE SET expires_at = excluded.expires_at`,
        [provider, owner, millis(now + leaseMs)],
      );
      return true;
    });
  }

  async releaseProbe(provider: string, owner: string): Promise<void> {
    await this.db.query(
      `DELETE FROM breaker_probes WHERE provider = $1 AND owner = $2 AND (SELECT ${SOFT_COMMIT}) = 'off'`,
      [provider, owner],
    );
  }

  async clearProbes(provider: string): Promise<void> {
    await this.db.query(
      `DELETE FROM breaker_probes WHERE provider = $1 AND (SELECT ${SOFT_COMMIT}) = 'off'`,
      [provider],
    );
  }

  async readGate(provider: string): Promise<Reading<GateRecord>> {
    const [row] = await this.db.query<GateRow & { now: number }>(
      `SELECT ${NOW} AS now, g.* FROM (SELECT 1) one LEFT JOIN rate_gates g ON g.provider = $1`,
      [provider],
    );
    return { record: (row!.provider as string | null) === null ? undefined : toGate(row!), now: row!.now };
  }

  async listGates(): Promise<GateRecord[]> {
    const rows = await this.db.query<GateRow>(
      `SELECT ${GATE_COLUMNS} FROM rate_gates ORDER BY provider COLLATE "C"`,
    );
    return rows.map(toGate);
  }

  /** Extends the shared pause to now + forMs (never shortens it), holding the gate's row while it decides. */
  pauseGate(provider: string, forMs: number, reason: string): Promise<boolean> {
    return this.db.tx(async (c) => {
      const row = await lockRow<{ paused_until: number }>(
        c,
        "SELECT paused_until FROM rate_gates WHERE provider = $1 FOR UPDATE",
        provider,
        "gate:",
      );
      const now = await softNow(c);
      const until = millis(now + forMs);
      const before = row?.paused_until ?? 0;
      await c.query(
        `INSERT INTO rate_gates (provider, paused_until, reason, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (provider) DO UPDATE SET
           reason = CASE WHEN excluded.paused_until > rate_gates.paused_until THEN excluded.reason ELSE rate_gates.reason END,
           paused_until = GREATEST(rate_gates.paused_until, excluded.paused_until), updated_at = excluded.updated_at`,
        [provider, until, reason, now],
      );
      return until > before;
    });
  }

  /**
   * The bucket's refill and reservation in one statement: the upsert holds the gate's row (a second
   * creator takes the update path), so reservations from every process are applied one at a time.
   */
  async reserveToken(
    provider: string,
    capacity: number,
    perMs: number,
    amount = 1,
    atMost?: number,
  ): Promise<number> {
    const [row] = await this.db.query<{ tokens: number }>(
      `INSERT INTO rate_gates (provider, tokens, refilled_at, updated_at)
       SELECT $1, LEAST($2::float8 - $4::float8, COALESCE($5::float8, 'Infinity')), t.now, t.now
       FROM (SELECT ${NOW} AS now, ${SOFT_COMMIT} AS soft) t
       WHERE t.soft = 'off'
       ON CONFLICT (provider) DO UPDATE SET
         tokens = LEAST(LEAST($2::float8, COALESCE(rate_gates.tokens, $2::float8)
           + (excluded.refilled_at - COALESCE(rate_gates.refilled_at, excluded.refilled_at)) * $3::float8) - $4::float8,
           COALESCE($5::float8, 'Infinity')),
         refilled_at = excluded.refilled_at, updated_at = excluded.updated_at
       RETURNING tokens`,
      [provider, capacity, perMs, amount, atMost ?? null],
    );
    const tokens = row!.tokens;
    return tokens >= 0 ? 0 : Math.ceil(-tokens / perMs);
  }

  async listDebts(filter: { job?: string; limit: number; afterId?: number }): Promise<DebtRecord[]> {
    const rows = await this.db.query(
      `SELECT id, job, phase, key, version, step, provider, reason, attempts, created_at FROM debts
       WHERE ($1::text IS NULL OR job = $1) AND id > $2 ORDER BY id LIMIT $3`,
      [filter.job ?? null, filter.afterId ?? 0, filter.limit],
    );
    return rows.map(debtRecord);
  }

  async countDebts(job: string | undefined): Promise<number> {
    const [row] = await this.db.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM debts WHERE $1::text IS NULL OR job = $1",
      [job ?? null],
    );
    return row!.n;
  }

  async countDebtsByJob(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ job: string; n: number }>(
      `SELECT job, COUNT(*) AS n FROM debts GROUP BY job ORDER BY job COLLATE "C"`,
    );
    return Object.fromEntries(rows.map((r) => [r.job, r.n]));
  }

  async settleDebt(id: number, paid: boolean, reason: string | null): Promise<void> {
    if (paid) await this.db.query("DELETE FROM debts WHERE id = $1", [id]);
    else
      await this.db.query(
        `UPDATE debts SET attempts = attempts + 1, reason = $1, updated_at = ${NOW} WHERE id = $2`,
        [reason, id],
      );
  }
}

/** Reads the ledger's clock once, inside a transaction whose commit is then soft (SOFT_COMMIT). */
async function softNow(c: pg.PoolClient): Promise<number> {
  const { rows } = await c.query<{ now: number }>(`SELECT ${NOW} AS now, ${SOFT_COMMIT}`);
  return rows[0]!.now;
}

/**
 * The row `select` (… FOR UPDATE, keyed by $1) finds, locked until the transaction ends. None yet: the
 * key's advisory lock is taken and the row read again (a creator that held it has committed by then), so
 * two creators serialise instead of both deciding on an absent row.
 */
async function lockRow<R extends pg.QueryResultRow>(
  c: pg.PoolClient,
  select: string,
  key: string,
  prefix: string,
): Promise<R | undefined> {
  const first = await c.query<R>(select, [key]);
  if (first.rows[0]) return first.rows[0];
  await c.query("SELECT pg_advisory_xact_lock(hashtext($1 || $2))", [prefix, key]);
  return (await c.query<R>(select, [key])).rows[0];
}
