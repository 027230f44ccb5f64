import type Database from "better-sqlite3";
import type { CallState, Reading, ResilienceStore } from "../resilience-store.js";
import type { BreakerRecord, BreakerState, DebtRecord, GateRecord } from "../types.js";
import { dbNow, NOW } from "./clock.js";
import { debtRecord, toBreaker, toGate, type BreakerRow, type GateRow } from "../rows.js";

type CallRow = [
  now: number,
  state: BreakerState | null,
  failures: number | null,
  openUntil: number | null,
  isolated: number | null,
  pausedUntil: number | null,
];

/** Breakers, probe leases, rate gates, token buckets and debts: state every process on this file shares. */
export class SqliteResilienceStore implements ResilienceStore {
  private readonly getBreaker;
  private readonly putBreaker;
  private readonly getGate;
  private readonly getCallState;

  constructor(private readonly db: Database.Database) {
    // raw rows of few columns: this read is on every call's path
    this.getCallState = db
      .prepare<[string, string], CallRow>(
        `SELECT ${NOW}, b.state, b.failures, b.open_until, b.isolated, g.paused_until
         FROM (SELECT 1) LEFT JOIN breakers b ON b.provider = ? LEFT JOIN rate_gates g ON g.provider = ?`,
      )
      .raw(true);
    this.getBreaker = db.prepare<[string], BreakerRow & { now: number }>(
      `SELECT ${NOW} AS now, b.* FROM (SELECT 1) LEFT JOIN breakers b ON b.provider = ?`,
    );
    this.putBreaker = db.prepare(
      `INSERT INTO breakers (provider, state, failures, successes, opened_at, open_until, reopen_count, isolated, reason, updated_at)
       VALUES (@provider, @state, @failures, @successes, @openedAt, @openUntil, @reopenCount, @isolated, @reason, @updatedAt)
       ON CONFLICT (provider) DO UPDATE SET state = excluded.state, failures = excluded.failures,
         successes = excluded.successes, opened_at = excluded.opened_at, open_until = excluded.open_until,
         reopen_count = excluded.reopen_count, isolated = excluded.isolated, reason = excluded.reason,
         updated_at = excluded.updated_at`,
    );
    this.getGate = db.prepare<[string], GateRow & { now: number }>(
      `SELECT ${NOW} AS now, g.* FROM (SELECT 1) LEFT JOIN rate_gates g ON g.provider = ?`,
    );
  }

  readCallState(provider: string): Promise<CallState> {
    const [now, state, failures, openUntil, isolated, pausedUntil] = this.getCallState.get(
      provider,
      provider,
    )!;
    return Promise.resolve({
      now,
      ...(state === null
        ? {}
        : { breaker: { state, failures: failures ?? 0, openUntil, isolated: isolated === 1 } }),
      pausedUntil: pausedUntil ?? 0,
    });
  }

  private breakerNow(provider: string): Reading<BreakerRecord> {
    const row = this.getBreaker.get(provider)!;
    return { record: (row.provider as string | null) === null ? undefined : toBreaker(row), now: row.now };
  }

  readBreaker(provider: string): Promise<Reading<BreakerRecord>> {
    return Promise.resolve(this.breakerNow(provider));
  }

  listBreakers(): Promise<BreakerRecord[]> {
    return Promise.resolve(
      this.db.prepare<[], BreakerRow>("SELECT * FROM breakers ORDER BY provider").all().map(toBreaker),
    );
  }

  /** Read-modify-write in one immediate transaction, so two processes never interleave a transition. */
  updateBreaker(
    provider: string,
    change: (current: BreakerRecord | undefined, now: number) => BreakerRecord | undefined,
  ): Promise<BreakerRecord | undefined> {
    const result = this.db
      .transaction(() => {
        const { record, now } = this.breakerNow(provider);
        const next = change(record, now);
        if (next) this.putBreaker.run({ ...next, isolated: next.isolated ? 1 : 0 });
        return next ?? record;
      })
      .immediate();
    return Promise.resolve(result);
  }

  acquireProbe(provider: string, owner: string, max: number, leaseMs: number): Promise<boolean> {
    const got = this.db
      .transaction(() => {
        this.db
          .prepare(`DELETE FROM breaker_probes WHERE provider = ? AND expires_at < ${NOW}`)
          .run(provider);
        const live = this.db
          .prepare<[string], number>("SELECT COUNT(*) FROM breaker_probes WHERE provider = ?")
          .pluck()
          .get(provider)!;
        if (live >= max) return false;
        this.db
          .prepare(
            `INSERT OR REPLACE INTO breaker_probes (provider, owner, expires_at) VALUES (?, ?, ${NOW} + ?)`,
          )
          .run(provider, owner, leaseMs);
        return true;
      })
      .immediate();
    return Promise.resolve(got);
  }

  releaseProbe(provider: string, owner: string): Promise<void> {
    this.db.prepare("DELETE FROM breaker_probes WHERE provider = ? AND owner = ?").run(provider, owner);
    return Promise.resolve();
  }

  clearProbes(provider: string): Promise<void> {
    this.db.prepare("DELETE FROM breaker_probes WHERE provider = ?").run(provider);
    return Promise.resolve();
  }

  readGate(provider: string): Promise<Reading<GateRecord>> {
    return Promise.resolve(this.readGateSync(provider));
  }

  listGates(): Promise<GateRecord[]> {
    return Promise.resolve(
      this.db.prepare<[], GateRow>("SELECT * FROM rate_gates ORDER BY provider").all().map(toGate),
    );
  }

  /** Extends the shared pause to now + forMs (never shortens it). */
  pauseGate(provider: string, forMs: number, reason: string): Promise<boolean> {
    const extended = this.db
      .transaction(() => {
        const now = dbNow(this.db);
        const until = now + forMs;
        const before = (this.getGate.get(provider)!.paused_until as number | null) ?? 0;
        this.db
          .prepare(
            `INSERT INTO rate_gates (provider, paused_until, reason, updated_at) VALUES (@provider, @until, @reason, @now)
             ON CONFLICT (provider) DO UPDATE SET
               reason = CASE WHEN excluded.paused_until > paused_until THEN excluded.reason ELSE reason END,
               paused_until = MAX(paused_until, excluded.paused_until), updated_at = excluded.updated_at`,
          )
          .run({ provider, until, reason, now });
        return until > before;
      })
      .immediate();
    return Promise.resolve(extended);
  }

  reserveToken(
    provider: string,
    capacity: number,
    perMs: number,
    amount = 1,
    atMost?: number,
  ): Promise<number> {
    const wait = this.db
      .transaction(() => {
        const { record: gate, now } = this.readGateSync(provider);
        const last = gate?.refilledAt ?? now;
        const left = Math.min(capacity, (gate?.tokens ?? capacity) + (now - last) * perMs) - amount;
        const tokens = atMost === undefined ? left : Math.min(left, atMost);
        this.db
          .prepare(
            `INSERT INTO rate_gates (provider, tokens, refilled_at, updated_at) VALUES (@provider, @tokens, @now, @now)
             ON CONFLICT (provider) DO UPDATE SET tokens = excluded.tokens, refilled_at = excluded.refilled_at,
               updated_at = excluded.updated_at`,
          )
          .run({ provider, tokens, now });
        return tokens >= 0 ? 0 : Math.ceil(-tokens / perMs);
      })
      .immediate();
    return Promise.resolve(wait);
  }

  private readGateSync(provider: string): Reading<GateRecord> {
    const row = this.getGate.get(provider)!;
    return { record: (row.provider as string | null) === null ? undefined : toGate(row), now: row.now };
  }

  listDebts(filter: { job?: string; limit: number; afterId?: number }): Promise<DebtRecord[]> {
    const rows = this.db
      .prepare<[{ job: string | null; after: number; limit: number }], Record<string, unknown>>(
        `SELECT * FROM debts WHERE (@job IS NULL OR job = @job) AND id > @after ORDER BY id LIMIT @limit`,
      )
      .all({ job: filter.job ?? null, after: filter.afterId ?? 0, limit: filter.limit });
    return Promise.resolve(rows.map(debtRecord));
  }

  countDebts(job: string | undefined): Promise<number> {
    const n = this.db
      .prepare<[{ job: string | null }], number>(
        "SELECT COUNT(*) FROM debts WHERE @job IS NULL OR job = @job",
      )
      .pluck()
      .get({ job: job ?? null })!;
    return Promise.resolve(n);
  }

  countDebtsByJob(): Promise<Record<string, number>> {
    const rows = this.db
      .prepare<[], { job: string; n: number }>(
        "SELECT job, COUNT(*) AS n FROM debts GROUP BY job ORDER BY job",
      )
      .all();
    return Promise.resolve(Object.fromEntries(rows.map((r) => [r.job, r.n])));
  }

  settleDebt(id: number, paid: boolean, reason: string | null): Promise<void> {
    if (paid) this.db.prepare("DELETE FROM debts WHERE id = ?").run(id);
    else
      this.db
        .prepare(`UPDATE debts SET attempts = attempts + 1, reason = ?, updated_at = ${NOW} WHERE id = ?`)
        .run(reason, id);
    return Promise.resolve();
  }
}
