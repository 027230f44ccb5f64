import type { ResilienceStore } from "../ledger/resilience-store.js";
import { sleep } from "./sleep.js";
import type { UsageLimits } from "./usage-limits.js";

/** What one call reserved: its token estimate, given back (or reconciled) once, when it is settled. */
export interface UsageTicket {
  tokens: number;
  settled: boolean;
}

/** Per-minute limits: configured, else learned from x-ratelimit-limit-requests / -tokens. */
export interface UsageLimitOptions {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** The share of each limit left unused against what the provider says remains (clock skew, other hosts). */
  reserve?: number;
}

const MINUTE_MS = 60_000;

/**
 * Paces a provider's calls by requests AND tokens, shared by every process through two token buckets in
 * the ledger (`<provider>#requests`, `<provider>#tokens`), each refilled at its limit per minute as
 * OpenAI's limits are. A call reserves its estimate (prompt chars / 4 + max output tokens) before it is
 * sent and waits when the bucket is short; its answer's usage then reconciles the estimate, and the
 * provider's x-ratelimit-remaining-* caps the bucket (less what this process still has in flight), so
 * a bucket never believes in more than the provider has left.
 */
export class UsagePacer {
  private requestsLimit: number | undefined;
  private tokensLimit: number | undefined;
  /** Tokens and requests this process reserved and has not settled. */
  private inFlightTokens = 0;
  private inFlightRequests = 0;

  constructor(
    readonly provider: string,
    private readonly store: ResilienceStore,
    private readonly o: UsageLimitOptions = {},
  ) {
    this.requestsLimit = o.requestsPerMinute;
    this.tokensLimit = o.tokensPerMinute;
  }

  /** The per-minute limits paced by now (configured or learned). */
  get limits(): { requests: number | undefined; tokens: number | undefined } {
    return { requests: this.requestsLimit, tokens: this.tokensLimit };
  }

  /** Reserves a call of about `tokens` tokens: waits (abortably) until both buckets have room for it. */
  async reserve(tokens: number, signal?: AbortSignal): Promise<UsageTicket> {
    const ticket = { tokens, settled: false };
    this.inFlightTokens += tokens;
    this.inFlightRequests += 1;
    const waits = await Promise.all([
      this.take("requests", this.requestsLimit, 1),
      this.take("tokens", this.tokensLimit, tokens),
    ]);
    await sleep(Math.max(...waits), signal);
    return ticket;
  }

  /** A call failed before the provider counted it: its reservation goes back. */
  async refund(ticket: UsageTicket): Promise<void> {
    if (!this.close(ticket)) return;
    await Promise.all([
      this.take("requests", this.requestsLimit, -1),
      this.take("tokens", this.tokensLimit, -ticket.tokens),
    ]);
  }

  /**
   * A call was answered: learns the limits from its headers, replaces its estimate by the tokens it
   * really used (when the answer says), and caps both buckets at what the provider says remains.
   */
  async settle(ticket: UsageTicket | undefined, limits: UsageLimits, usedTokens?: number): Promise<void> {
    if (ticket && !this.close(ticket)) return;
    if (limits.requests?.limit !== undefined && this.o.requestsPerMinute === undefined)
      this.requestsLimit = limits.requests.limit;
    if (limits.tokens?.limit !== undefined && this.o.tokensPerMinute === undefined)
      this.tokensLimit = limits.tokens.limit;
    const tokenDelta = ticket && usedTokens !== undefined ? usedTokens - ticket.tokens : 0;
    await Promise.all([
      this.take(
        "requests",
        this.requestsLimit,
        0,
        this.cap(limits.requests?.remaining, this.requestsLimit, "r"),
      ),
      this.take(
        "tokens",
        this.tokensLimit,
        tokenDelta,
        this.cap(limits.tokens?.remaining, this.tokensLimit, "t"),
      ),
    ]);
  }

  private close(ticket: UsageTicket): boolean {
    if (ticket.settled) return false;
    ticket.settled = true;
    this.inFlightTokens -= ticket.tokens;
    this.inFlightRequests -= 1;
    return true;
  }

  /** What the bucket may hold at most: the provider's remaining, less this process's calls in flight and the reserve. */
  private cap(remaining: number | undefined, limit: number | undefined, kind: "r" | "t"): number | undefined {
    if (remaining === undefined || limit === undefined) return undefined;
    const inFlight = kind === "r" ? this.inFlightRequests : this.inFlightTokens;
    return remaining - inFlight - limit * (this.o.reserve ?? 0.02);
  }

  private async take(
    kind: string,
    limit: number | undefined,
    amount: number,
    atMost?: number,
  ): Promise<number> {
    if (limit === undefined || (amount === 0 && atMost === undefined)) return 0;
    return this.store.reserveToken(`${this.provider}#${kind}`, limit, limit / MINUTE_MS, amount, atMost);
  }
}
