import { BrokenCircuitError } from "../errors.js";
import type { Ledger } from "../ledger/ledger.js";
import type { BreakerRecord, BreakerState } from "../ledger/types.js";

export interface BreakerOptions {
  failureThreshold: number;
  successThreshold: number;
  /** The first open period; it doubles on each re-open from half-open, up to maxTimeoutMs. */
  timeoutMs: number;
  maxTimeoutMs: number;
  /** Probes allowed at once across every process while half-open. */
  halfOpenMaxCalls: number;
  /** Also open when this share of calls failed within the window (counted in this process). */
  failureRate?: { threshold: number; windowMs: number; minCalls: number };
  /** How long a probe lease lives if its holder dies mid-call. */
  probeLeaseMs: number;
}

export interface BreakerTransition {
  provider: string;
  from: BreakerState;
  to: BreakerState;
  reason: string;
}

/** What acquire() hands out; give it back to success(), failure() or release(). */
export interface Permit {
  probeId?: string;
  /** Consecutive failures the shared record held when the call started (a success resets them). */
  failures: number;
}

const closed = (provider: string, now: number): BreakerRecord => ({
  provider,
  state: "closed",
  failures: 0,
  successes: 0,
  openedAt: null,
  openUntil: null,
  reopenCount: 0,
  isolated: false,
  reason: null,
  updatedAt: now,
});

/**
 * A circuit breaker whose state lives in the ledger, shared by every process using it. A closed
 * breaker costs one read per call and no write on success (unless failures were pending).
 */
export class CircuitBreaker {
  private probeSeq = 0;
  private window: { t: number; ok: boolean }[] = [];

  constructor(
    readonly provider: string,
    private readonly ledger: Ledger,
    private readonly o: BreakerOptions,
    private readonly owner: string,
    private readonly onTransition: (t: BreakerTransition) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  state(): Promise<BreakerRecord> {
    return this.ledger.readBreaker(this.provider).then((r) => r ?? closed(this.provider, this.now()));
  }

  async acquire(): Promise<Permit> {
    const rec = await this.ledger.readBreaker(this.provider);
    if (!rec || rec.state === "closed") return { failures: rec?.failures ?? 0 };
    if (rec.isolated) throw new BrokenCircuitError(this.provider, undefined);
    const now = this.now();
    if (rec.state === "open") {
      if (rec.openUntil !== null && now < rec.openUntil)
        throw new BrokenCircuitError(this.provider, rec.openUntil);
      await this.change(
        (cur) =>
          cur?.state === "open" && !cur.isolated && (cur.openUntil ?? 0) <= now
            ? { ...cur, state: "half_open", successes: 0, updatedAt: now }
            : undefined,
        "open period elapsed",
      );
    }
    const probeId = `${this.owner}#${++this.probeSeq}`;
    const got = await this.ledger.acquireProbe(
      this.provider,
      probeId,
      this.o.halfOpenMaxCalls,
      now + this.o.probeLeaseMs,
      now,
    );
    if (!got) throw new BrokenCircuitError(this.provider, now + Math.min(1000, this.o.timeoutMs));
    return { probeId, failures: 0 };
  }

  async success(p: Permit): Promise<void> {
    if (p.probeId === undefined) {
      this.record(true);
      if (p.failures > 0) {
        await this.ledger.updateBreaker(this.provider, (cur) =>
          cur?.state === "closed" && cur.failures > 0
            ? { ...cur, failures: 0, updatedAt: this.now() }
            : undefined,
        );
      }
      return;
    }
    const now = this.now();
    await this.change(
      (cur) => {
        if (cur?.state !== "half_open") return undefined;
        const successes = cur.successes + 1;
        return successes >= this.o.successThreshold
          ? { ...closed(this.provider, now) }
          : { ...cur, successes, updatedAt: now };
      },
      `${this.o.successThreshold} successful probe${this.o.successThreshold === 1 ? "" : "s"}`,
    );
    await this.ledger.releaseProbe(this.provider, p.probeId);
  }

  async failure(p: Permit, reason: string): Promise<void> {
    const now = this.now();
    if (p.probeId !== undefined) {
      await this.change((cur) => {
        if (cur?.state !== "half_open") return undefined;
        const reopenCount = cur.reopenCount + 1;
        const timeout = Math.min(this.o.maxTimeoutMs, this.o.timeoutMs * 2 ** reopenCount);
        return {
          ...cur,
          state: "open",
          openedAt: now,
          openUntil: now + timeout,
          reopenCount,
          successes: 0,
          reason,
          updatedAt: now,
        };
      }, `probe failed: ${reason}`);
      await this.ledger.releaseProbe(this.provider, p.probeId);
      return;
    }
    this.record(false);
    const rateTripped = this.rateTripped(now);
    let why = "";
    await this.change(
      (cur) => {
        const c = cur ?? closed(this.provider, now);
        if (c.state !== "closed") return undefined;
        const failures = c.failures + 1;
        if (failures < this.o.failureThreshold && !rateTripped) return { ...c, failures, updatedAt: now };
        why =
          failures >= this.o.failureThreshold
            ? `${failures} consecutive failures`
            : "failure rate over the window";
        return {
          ...c,
          state: "open",
          failures,
          openedAt: now,
          openUntil: now + this.o.timeoutMs,
          reopenCount: 0,
          reason,
          updatedAt: now,
        };
      },
      () => `${why}; last: ${reason}`,
    );
  }

  /** A probe that ended neither in success nor in a provider failure (a 404, a rate limit) gives its lease back. */
  async release(p: Permit | undefined): Promise<void> {
    if (p?.probeId !== undefined) await this.ledger.releaseProbe(this.provider, p.probeId);
  }

  /** Opens the breaker until reset by hand. */
  async isolate(): Promise<void> {
    const now = this.now();
    await this.change(
      (cur) => ({
        ...(cur ?? closed(this.provider, now)),
        state: "open",
        isolated: true,
        openedAt: now,
        openUntil: null,
        reason: "isolated by hand",
        updatedAt: now,
      }),
      "isolated by hand",
    );
  }

  async reset(): Promise<void> {
    await this.change(() => closed(this.provider, this.now()), "reset by hand");
    await this.ledger.clearProbes(this.provider);
  }

  private async change(
    fn: (cur: BreakerRecord | undefined) => BreakerRecord | undefined,
    reason: string | (() => string),
  ): Promise<void> {
    let from: BreakerState = "closed";
    let to: BreakerState | undefined;
    await this.ledger.updateBreaker(this.provider, (cur) => {
      const next = fn(cur);
      from = cur?.state ?? "closed";
      to = next?.state;
      return next;
    });
    if (to !== undefined && to !== from) {
      this.onTransition({
        provider: this.provider,
        from,
        to,
        reason: typeof reason === "string" ? reason : reason(),
      });
    }
  }

  private record(ok: boolean): void {
    if (!this.o.failureRate) return;
    const now = this.now();
    this.window.push({ t: now, ok });
    const since = now - this.o.failureRate.windowMs;
    while (this.window.length > 0 && this.window[0]!.t < since) this.window.shift();
    if (this.window.length > 10_000) this.window = this.window.slice(-10_000);
  }

  private rateTripped(now: number): boolean {
    const fr = this.o.failureRate;
    if (!fr) return false;
    const recent = this.window.filter((c) => c.t >= now - fr.windowMs);
    if (recent.length < fr.minCalls) return false;
    return recent.filter((c) => !c.ok).length / recent.length >= fr.threshold;
  }
}
