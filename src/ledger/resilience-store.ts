import type { BreakerRecord, BreakerState, DebtRecord, GateRecord } from "./types.js";

/** A record as the ledger holds it, and the ledger's clock at the moment it was read. */
export interface Reading<T> {
  record: T | undefined;
  now: number;
}

/** What one call to a provider needs to know first, in one read: its breaker, its gate's pause, the clock. */
export interface CallState {
  now: number;
  /** Undefined: the breaker never failed (closed). */
  breaker?: { state: BreakerState; failures: number; openUntil: number | null; isolated: boolean };
  /** When the shared pause ends (0: none). */
  pausedUntil: number;
}

/**
 * State every process (and machine) using one provider shares: circuit breakers, their probe leases,
 * rate gates and token buckets, and enrichment debts. Every decision about time is made with the
 * ledger's clock: reads return it, writes compute expiries from it.
 */
export interface ResilienceStore {
  /** The breaker and the gate's pause of a provider in one read (a call's fast path). */
  readCallState(provider: string): Promise<CallState>;
  readBreaker(provider: string): Promise<Reading<BreakerRecord>>;
  listBreakers(): Promise<BreakerRecord[]>;
  /**
   * Read-modify-write of one breaker in one transaction: `change` gets the record and the ledger's
   * clock and returns the next record (undefined: no change). Returns the record as it now stands.
   */
  updateBreaker(
    provider: string,
    change: (current: BreakerRecord | undefined, now: number) => BreakerRecord | undefined,
  ): Promise<BreakerRecord | undefined>;
  /** A half-open probe lease for `leaseMs`: at most `max` live probes per provider across all processes. */
  acquireProbe(provider: string, owner: string, max: number, leaseMs: number): Promise<boolean>;
  releaseProbe(provider: string, owner: string): Promise<void>;
  clearProbes(provider: string): Promise<void>;

  readGate(provider: string): Promise<Reading<GateRecord>>;
  listGates(): Promise<GateRecord[]>;
  /** Extends the provider's shared pause to `forMs` from now (never shortens it); true when it extended it. */
  pauseGate(provider: string, forMs: number, reason: string): Promise<boolean>;
  /**
   * Reserves the next token of the shared bucket (capacity `capacity`, refilled at `perMs` tokens per
   * ms): 0 when one is there, else the ms until the token reserved now is due (the bucket goes below
   * zero, so callers waiting in any process get one slot each, in turn). `amount` reserves that many
   * at once (negative: gives them back); `atMost` then caps the bucket (what the provider says remains).
   */
  reserveToken(
    provider: string,
    capacity: number,
    perMs: number,
    amount?: number,
    atMost?: number,
  ): Promise<number>;

  listDebts(filter: { job?: string; limit: number; afterId?: number }): Promise<DebtRecord[]>;
  countDebts(job: string | undefined): Promise<number>;
  /** Debts of every job, per job. */
  countDebtsByJob(): Promise<Record<string, number>>;
  /** Paid: the debt is gone; else one more attempt is counted with its reason. */
  settleDebt(id: number, paid: boolean, reason: string | null): Promise<void>;
}
