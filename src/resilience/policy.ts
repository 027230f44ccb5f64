import type { EventBus } from "../events.js";
import {
  errorMessage,
  GateClosedError,
  isBrokenCircuitError,
  isHttpError,
  type ErrorClass,
} from "../errors.js";
import type { ResilienceStore } from "../ledger/resilience-store.js";
import { backoffDelay, type Jitter } from "./backoff.js";
import { Bulkhead } from "./bulkhead.js";
import { CircuitBreaker, type BreakerOptions, type Permit } from "./circuit-breaker.js";
import { classifyError } from "./classify.js";
import { RateGate } from "./rate-gate.js";
import { SharedBulkhead } from "./shared-bulkhead.js";
import { redact } from "../config/secrets.js";
import { sleep } from "./sleep.js";
import { withTimeout } from "./timeout.js";
import { UsagePacer, type UsageLimitOptions, type UsageTicket } from "./usage-pacer.js";

export interface RetryOptions {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  exponentialBase: number;
  jitter: Jitter;
  /** The whole call, waits included, gives up after this long. */
  budgetMs: number;
}

export interface PolicyOptions {
  retry: RetryOptions;
  breaker: BreakerOptions;
  rate?: { requests: number; perSeconds: number; burst: number };
  /** Requests and tokens per minute to pace by (else learned from x-ratelimit-limit-requests / -tokens). */
  usage?: UsageLimitOptions;
  /** The share of a rate-limit window kept unused (the gate closes when only this much remains). */
  rateReserve?: number;
  /** `concurrency` caps the calls in flight across every process on the ledger, not only this one's. */
  sharedConcurrency?: boolean;
  timeoutMs: number;
  concurrency: number;
  pauseOnRateLimit: boolean;
  /** How long to pause on a rate limit that came without a hint. */
  rateLimitWaitMs: number;
  /** RESILIENCE_ENABLED=false: one attempt, no breaker, no gate (timeout still applies). */
  enabled: boolean;
  /** RESILIENCE_RETRY_ENABLED=false: one attempt per call, a rate-limited one included (default true). */
  retryEnabled?: boolean;
  /** RESILIENCE_CIRCUIT_BREAKER_ENABLED=false: the breaker never blocks a call nor records one (default true). */
  breakerEnabled?: boolean;
  classify: Readonly<Record<number, ErrorClass>>;
}

/** Rate-limit waits are bounded by the budget, not by attempts; this caps the loop regardless. */
const MAX_RATE_LIMIT_WAITS = 10_000;

/**
 * A provider's resilience policy: rate gate → bulkhead → circuit breaker → timeout → call, with
 * retries. State (breaker, gate, bucket) is in the ledger, shared by every process.
 */
export class ProviderPolicy {
  readonly breaker: CircuitBreaker;
  readonly gate: RateGate;
  /** Pacing by requests and tokens (calls that say what they cost, `execute`'s `cost`). */
  readonly usage: UsagePacer;
  private readonly bulkhead: Bulkhead;
  private readonly shared: SharedBulkhead | undefined;

  /**
   * Calls of this policy that may be in flight besides the caller's own: in this process, or with a
   * shared cap, in every process (all but one of the cap's slots).
   */
  get othersInFlight(): number {
    return this.shared ? this.options.concurrency - 1 : Math.max(0, this.bulkhead.inUse - 1);
  }

  constructor(
    readonly name: string,
    private readonly store: ResilienceStore,
    readonly options: PolicyOptions,
    owner: string,
    private readonly events?: EventBus,
    private readonly now: () => number = Date.now,
  ) {
    this.breaker = new CircuitBreaker(name, store, options.breaker, owner, events);
    this.gate = new RateGate(
      name,
      store,
      {
        ...(options.rate ? { rate: options.rate } : {}),
        ...(options.rateReserve ? { reserve: options.rateReserve } : {}),
        ...(options.sharedConcurrency ? { sharedInFlight: true } : {}),
        inFlight: options.concurrency,
      },
      events,
    );
    this.usage = new UsagePacer(name, store, options.usage);
    this.bulkhead = new Bulkhead(options.concurrency);
    this.shared = options.sharedConcurrency
      ? new SharedBulkhead(`${name}#in-flight`, store, options.concurrency, options.timeoutMs + 5000, owner)
      : undefined;
  }

  /**
   * Runs `fn` under the policy. With `cost` (the call's estimated tokens), each attempt first reserves it
   * from the provider's shared request and token buckets and hands `fn` the ticket: the answer settles it
   * (`usage.settle`), a failed attempt gives it back.
   */
  async execute<T>(
    fn: (signal: AbortSignal, ticket?: UsageTicket) => Promise<T>,
    signal?: AbortSignal,
    cost?: number,
  ): Promise<T> {
    const o = this.options;
    if (!o.enabled) return withTimeout(fn, o.timeoutMs, signal);
    const started = this.now();
    const retries = o.retryEnabled !== false;
    const breakerOn = o.breakerEnabled !== false;
    const maxAttempts = retries ? o.retry.maxAttempts : 1;
    let attempt = 0;
    let previousDelay = o.retry.baseDelayMs;
    for (let waits = 0; ; waits++) {
      // one read of the shared state serves the gate and the breaker, unless the gate made it wait
      const read = await this.store.readCallState(this.name);
      // a run that may not wait for a rate limit does not wait for the gate another call closed either
      if (!o.pauseOnRateLimit && retries && read.pausedUntil > read.now)
        throw new GateClosedError(this.name, read.pausedUntil - read.now);
      const state = await this.gate.waitFrom(read, signal);
      signal?.throwIfAborted();
      const ticket = cost === undefined ? undefined : await this.usage.reserve(cost, signal);
      if (ticket && signal?.aborted) await this.usage.refund(ticket);
      signal?.throwIfAborted();
      const atOnce = await this.bulkhead.acquire(signal).catch(async (e: unknown) => {
        if (ticket) await this.usage.refund(ticket);
        throw e;
      });
      let permit: Permit | undefined;
      let failure: unknown;
      let slot: string | undefined;
      try {
        if (this.shared) {
          slot = (await this.shared.acquire(signal)).slot;
          // the gate may have closed since this call read it, even when a slot was free at once: another
          // process's answer, observed before its slot was freed, may have spent the window. Holding a slot
          // now, this call is one of the "others" every later answer keeps room for; so one more look
          // suffices: back to the gate if it closed.
          const now = await this.store.readCallState(this.name);
          if (now.pausedUntil > now.now) continue;
        }
        if (breakerOn) permit = await this.breaker.acquire(atOnce ? state : undefined);
        if (ticket) ticket.sentAt = this.now();
        const result = await withTimeout((s) => fn(s, ticket), o.timeoutMs, signal);
        if (permit) await this.breaker.success(permit);
        return result;
      } catch (e) {
        failure = e;
      } finally {
        this.bulkhead.release();
        if (slot !== undefined) await this.shared!.release(slot);
        // an answer settled its ticket; a failure (or a call the gate sent back) gives the reservation back
        if (ticket) await this.usage.refund(ticket);
      }
      if (signal?.aborted) {
        await this.breaker.release(permit);
        throw failure;
      }
      if (permit === undefined && isBrokenCircuitError(failure)) throw failure;
      const cls = classifyError(failure, o.classify);
      const hint = isHttpError(failure) ? failure.retryAfterMs : undefined;
      const message = redact(errorMessage(failure));
      if (cls === "rate_limited") {
        // not the provider's fault: the breaker does not count it, and no attempt is consumed
        await this.breaker.release(permit);
        const wait = hint ?? o.rateLimitWaitMs;
        await this.gate.pause(wait, message);
        if (
          !o.pauseOnRateLimit ||
          !retries ||
          this.now() - started + wait > o.retry.budgetMs ||
          waits >= MAX_RATE_LIMIT_WAITS
        )
          throw failure;
        continue;
      }
      if (cls !== "transient") {
        await this.breaker.release(permit);
        throw failure;
      }
      if (permit) await this.breaker.failure(permit, message);
      attempt++;
      if (attempt >= maxAttempts) throw failure;
      const delay = Math.max(
        backoffDelay(
          attempt,
          {
            baseMs: o.retry.baseDelayMs,
            maxMs: o.retry.maxDelayMs,
            exponentialBase: o.retry.exponentialBase,
            jitter: o.retry.jitter,
          },
          previousDelay,
        ),
        hint ?? 0,
      );
      previousDelay = delay;
      if (this.now() - started + delay > o.retry.budgetMs) throw failure;
      this.events?.emit("retry:attempt", {
        provider: this.name,
        attempt,
        maxAttempts: o.retry.maxAttempts,
        delayMs: delay,
        errorClass: cls,
        message,
      });
      await sleep(delay, signal);
      signal?.throwIfAborted();
    }
  }
}
