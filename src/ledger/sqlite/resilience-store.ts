import type Database from "better-sqlite3";
import type { BreakerRecord, DebtRecord, GateRecord } from "../types.js";

interface BreakerRow {
  provider: string;
  state: BreakerRecord["state"];
  failures: number;
  successes: number;
  opened_at: number | null;
  open_until: number | null;
  reopen_count: number;
  isolated: number;
  reason: string | null;
  updated_at: number;
}

const toBreaker = (r: BreakerRow): BreakerRecord => ({
  provider: r.provider,
  state: r.state,
  failures: r.failures,
  successes: r.successes,
  openedAt: r.opened_at,
  openUntil: r.open_until,
  reopenCount: r.reopen_count,
  isolated: r.isolated === 1,
  reason: r.reason,
  updatedAt: r.updated_at,
});

interface GateRow {
  provider: string;
  paused_until: number;
  reason: string | null;
  tokens: number | null;
  refilled_at: number | null;
  updated_at: number;
}

const toGate = (r: GateRow): GateRecord => ({
  provider: r.provider,
  pausedUntil: r.paused_until,
  reason: r.reason,
  tokens: r.tokens,
  refilledAt: r.refilled_at,
  updatedAt: r.updated_at,
});

/** Breakers, probe leases, rate gates and token buckets: state every process on this file shares. */
export class ResilienceStore {
  private readonly getBreaker;
  private readonly putBreaker;
  private readonly getGate;

  constructor(private readonly db: Database.Database) {
    this.getBreaker = db.prepare<[string], BreakerRow>("SELECT * FROM breakers WHERE provider = ?");
    this.putBreaker = db.prepare(
      `INSERT INTO breakers (provider, state, failures, successes, opened_at, open_until, reopen_count, isolated, reason, updated_at)
       VALUES (@provider, @state, @failures, @successes, @openedAt, @openUntil, @reopenCount, @isolated, @reason, @updatedAt)
       ON CONFLICT (provider) DO UPDATE SET state = excluded.state, failures = excluded.failures,
         successes = excluded.successes, opened_at = excluded.opened_at, open_until = excluded.open_until,
         reopen_count = excluded.reopen_count, isolated = excluded.isolated, reason = excluded.reason,
         updated_at = excluded.updated_at`,
    );
    this.getGate = db.prepare<[string], GateRow>("SELECT * FROM rate_gates WHERE provider = ?");
  }

  readBreaker(provider: string): BreakerRecord | undefined {
    const row = this.getBreaker.get(provider);
    return row && toBreaker(row);
  }

  listBreakers(): BreakerRecord[] {
    return this.db.prepare<[], BreakerRow>("SELECT * FROM breakers ORDER BY provider").all().map(toBreaker);
  }

  /** Read-modify-write in one immediate transaction, so two processes never interleave a transition. */
  updateBreaker(
    provider: string,
    change: (current: BreakerRecord | undefined) => BreakerRecord | undefined,
  ): BreakerRecord | undefined {
    return this.db
      .transaction(() => {
        const current = this.readBreaker(provider);
        const next = change(current);
        if (next) this.putBreaker.run({ ...next, isolated: next.isolated ? 1 : 0 });
        return next ?? current;
      })
      .immediate();
  }

  /** A half-open probe lease: at most `max` live probes per provider across all processes. */
  acquireProbe(provider: string, owner: string, max: number, expiresAt: number, now: number): boolean {
    return this.db
      .transaction(() => {
        this.db
          .prepare("DELETE FROM breaker_probes WHERE provider = ? AND expires_at < ?")
          .run(provider, now);
        const live = this.db
          .prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM breaker_probes WHERE provider = ?")
          .get(provider)!.n;
        if (live >= max) return false;
        this.db
          .prepare("INSERT OR REPLACE INTO breaker_probes (provider, owner, expires_at) VALUES (?, ?, ?)")
          .run(provider, owner, expiresAt);
        return true;
      })
      .immediate();
  }

  releaseProbe(provider: string, owner: string): void {
    this.db.prepare("DELETE FROM breaker_probes WHERE provider = ? AND owner = ?").run(provider, owner);
  }

  clearProbes(provider: string): void {
    this.db.prepare("DELETE FROM breaker_probes WHERE provider = ?").run(provider);
  }

  readGate(provider: string): GateRecord | undefined {
    const row = this.getGate.get(provider);
    return row && toGate(row);
  }

  listGates(): GateRecord[] {
    return this.db.prepare<[], GateRow>("SELECT * FROM rate_gates ORDER BY provider").all().map(toGate);
  }

  /** Extends the shared pause to `until` (never shortens it). */
  pauseGate(provider: string, until: number, reason: string, now: number): GateRecord {
    this.db
      .prepare(
        `INSERT INTO rate_gates (provider, paused_until, reason, updated_at) VALUES (@provider, @until, @reason, @now)
         ON CONFLICT (provider) DO UPDATE SET
           reason = CASE WHEN excluded.paused_until > paused_until THEN excluded.reason ELSE reason END,
           paused_until = MAX(paused_until, excluded.paused_until), updated_at = excluded.updated_at`,
      )
      .run({ provider, until, reason, now });
    return this.readGate(provider)!;
  }

  /**
   * Reserves the next token of the shared bucket (capacity `capacity`, refilled at `perMs` tokens per
   * ms). Returns 0 when one is there, else how many ms until the token reserved now is due: the bucket
   * goes below zero, so callers waiting in any process are given one slot each, in turn, and a caller
   * that wakes late does not push the slots after its own (its reservation is spent either way).
   */
  reserveToken(provider: string, capacity: number, perMs: number, now: number): number {
    return this.db
      .transaction(() => {
        const gate = this.readGate(provider);
        const last = gate?.refilledAt ?? now;
        const tokens = Math.min(capacity, (gate?.tokens ?? capacity) + (now - last) * perMs) - 1;
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
  }

  listDebts(filter: { job?: string; limit: number; afterId?: number }): DebtRecord[] {
    return this.db
      .prepare<[{ job: string | null; after: number; limit: number }], Record<string, unknown>>(
        `SELECT * FROM debts WHERE (@job IS NULL OR job = @job) AND id > @after ORDER BY id LIMIT @limit`,
      )
      .all({ job: filter.job ?? null, after: filter.afterId ?? 0, limit: filter.limit })
      .map((r) => ({
        id: r.id as number,
        job: r.job as string,
        phase: r.phase as string,
        key: r.key as string,
        version: r.version as string,
        step: r.step as number,
        provider: r.provider as string | null,
        reason: r.reason as string | null,
        attempts: r.attempts as number,
        createdAt: r.created_at as number,
      }));
  }

  countDebts(job: string | undefined): number {
    return this.db
      .prepare<[{ job: string | null }], { n: number }>(
        "SELECT COUNT(*) AS n FROM debts WHERE @job IS NULL OR job = @job",
      )
      .get({ job: job ?? null })!.n;
  }

  settleDebt(id: number, paid: boolean, reason: string | null, now: number): void {
    if (paid) this.db.prepare("DELETE FROM debts WHERE id = ?").run(id);
    else
      this.db
        .prepare("UPDATE debts SET attempts = attempts + 1, reason = ?, updated_at = ? WHERE id = ?")
        .run(reason, now, id);
  }
}
