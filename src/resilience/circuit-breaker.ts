import type { EventBus } from "../events.js";
import { BrokenCircuitError } from "../errors.js";
import type { CallState, ResilienceStore } from "../ledger/resilience-store.js";
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
 * A circuit breaker whose state lives in the ledger, shared by every process using it; its timeouts
 * are judged by the ledger's clock. A closed breaker costs one read per call and no write on success
 * (unless failures were pending).
 */
export class CircuitBreaker {
  private probeSeq = 0;
  private window: { t: number; ok: boolean }[] = [];

  constructor(
    readonly provider: string,
    private readonly store: ResilienceStore,
    private readonly o: BreakerOptions,
    private readonly owner: string,
    private readonly events?: EventBus,
  ) {}

  async state(): Promise<BreakerRecord> {
    const { record, now } = await this.store.readBreaker(this.provider);
    return record ?? closed(this.provider, now);
  }

  /** A permit to call, or BrokenCircuitError; `state`: a reading just made (the policy's one read per call). */
  async acquire(state?: CallState): Promise<Permit> {
    const { breaker: rec, now } = state ?? (await this.store.readCallState(this.provider));
    if (!rec || rec.state === "closed") return { failures: rec?.failures ?? 0 };
    if (rec.isolated) throw new BrokenCircuitError(this.provider, undefined);
    if (rec.state === "open") {
      // the ledger's clock decides; the caller is told when, on its own clock, to come back
      if (rec.openUntil !== null && now < rec.openUntil)
        throw new BrokenCircuitError(this.provider, Date.now() + rec.openUntil - now);
      await this.change(
        (cur, at) =>
          cur?.state === "open" && !cur.isolated && (cur.openUntil ?? 0) <= at
            ? { ...cur, state: "half_open", successes: 0, updatedAt: at }
            : undefined,
        "open period elapsed",
      );
    }
    const probeId = `${this.owner}#${++this.probeSeq}`;
    const got = await this.store.acquireProbe(
      this.provider,
      probeId,
      this.o.halfOpenMaxCalls,
      this.o.probeLeaseMs,
    );
    if (!got) throw new BrokenCircuitError(this.provider, Date.now() + Math.min(1000, this.o.timeoutMs));
    return { probeId, failures: 0 };
  }

  async success(p: Permit): Promise<void> {
    if (p.probeId === undefined) {
      this.record(true);
      if (p.failures > 0) {
        await this.store.updateBreaker(this.provider, (cur, now) =>
          cur?.state === "closed" && cur.failures > 0 ? { ...cur, failures: 0, updatedAt: now } : undefined,
        );
      }
      return;
    }
    await this.change(
      (cur, now) => {
        if (cur?.state !== "half_open") return undefined;
        const successes = cur.successes + 1;
        return successes >= this.o.successThreshold
          ? { ...closed(this.provider, now) }
          : { ...cur, successes, updatedAt: now };
      },
      `${this.o.successThreshold} successful probe${this.o.successThreshold === 1 ? "" : "s"}`,
    );
    await this.store.releaseProbe(this.provider, p.probeId);
  }

  async failure(p: Permit, reason: string): Promise<void> {
    if (p.probeId !== undefined) {
      await this.change((cur, now) => {
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
      await this.store.releaseProbe(this.provider, p.probeId);
      return;
    }
    this.record(false);
    const rateTripped = this.rateTripped(Date.now());
    let why = "";
    await this.change(
      (cur, now) => {
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
    if (p?.probeId !== undefined) await this.store.releaseProbe(this.provider, p.probeId);
  }

  /** Opens the breaker until reset by hand. */
  async isolate(): Promise<void> {
    await this.change(
      (cur, now) => ({
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
    await this.change((_cur, now) => closed(this.provider, now), "reset by hand");
    await this.store.clearProbes(this.provider);
  }

  private async change(
    fn: (cur: BreakerRecord | undefined, now: number) => BreakerRecord | undefined,
    reason: string | (() => string),
  ): Promise<void> {
    let from: BreakerState = "closed";
    let to: BreakerState | undefined;
    await this.store.updateBreaker(this.provider, (cur, now) => {
      const next = fn(cur, now);
      from = cur?.state ?? "closed";
      to = next?.state;
      return next;
    });
    if (to !== undefined && to !== from) {
      this.events?.emit("breaker:transition", {
        provider: this.provider,
        from,
        to,
        reason: typeof reason === "string" ? reason : reason(),
      });
    }
  }

  /** The failure-rate window is this process's own count, on its own clock. */
  private record(ok: boolean): void {
    if (!this.o.failureRate) return;
    const now = Date.now();
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
