import type { ResilienceStore } from "../ledger/resilience-store.js";
import { sleep } from "./sleep.js";
import type { UsageLimits } from "./usage-limits.js";

/** What one call reserved: its token estimate, reconciled (or given back) once, when it is settled. */
export interface UsageTicket {
  tokens: number;
  settled: boolean;
  /** When the request left (set by the policy), undefined while it waits. */
  sentAt?: number;
  /**
   * An earlier answer's remaining counted this call already (it was sent before that call): the bucket
   * was set from it, so this call's own settlement changes nothing more.
   */
  reflected: boolean;
}

/** Per-minute limits: configured, else learned from x-ratelimit-limit-requests / -tokens. */
export interface UsageLimitOptions {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** The share of each limit left unused against what the provider says remains (clock skew, other hosts). */
  reserve?: number;
}

const MINUTE_MS = 60_000;
/** Calls sent this close before an answered one may have reached the provider after it. */
const ORDER_SLACK_MS = 10;

/**
 * Paces a provider's calls by requests AND tokens, shared by every process through two token buckets in
 * the ledger (`<provider>#requests`, `<provider>#tokens`), each refilled at its limit per minute as
 * OpenAI's limits are. A call reserves its estimate (prompt chars / 4 + max output tokens) before it is
 * sent and waits when the bucket is short; its answer's usage replaces the estimate. Each answer's
 * x-ratelimit-remaining-* also caps the bucket: less the calls of this process the provider cannot have
 * counted yet (waiting, or sent after the answered one); those sent before it are in the provider's
 * figure at their real cost, so their own settlements add nothing more.
 */
export class UsagePacer {
  private requestsLimit: number | undefined;
  private tokensLimit: number | undefined;
  private readonly open = new Set<UsageTicket>();

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
    const ticket: UsageTicket = { tokens, settled: false, reflected: false };
    this.open.add(ticket);
    const waits = await Promise.all([
      this.take("requests", this.requestsLimit, 1),
      this.take("tokens", this.tokensLimit, tokens),
    ]);
    await sleep(Math.max(...waits), signal);
    return ticket;
  }

  /** A call failed before the provider counted it: its reservation goes back (unless an answer's remaining did). */
  async refund(ticket: UsageTicket): Promise<void> {
    if (!this.close(ticket) || ticket.reflected) return;
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
    const delta = ticket && !ticket.reflected && usedTokens !== undefined ? usedTokens - ticket.tokens : 0;
    if (delta !== 0) await this.take("tokens", this.tokensLimit, delta);
    // calls the provider cannot have counted in this answer's remaining: waiting, or sent after this one
    const before = ticket?.sentAt === undefined ? -Infinity : ticket.sentAt - ORDER_SLACK_MS;
    const counted = [...this.open].filter((t) => t.sentAt !== undefined && t.sentAt <= before);
    const uncounted = [...this.open].filter((t) => !counted.includes(t));
    const capped = await Promise.all([
      this.cap("requests", this.requestsLimit, limits.requests?.remaining, uncounted.length),
      this.cap(
        "tokens",
        this.tokensLimit,
        limits.tokens?.remaining,
        uncounted.reduce((n, t) => n + t.tokens, 0),
      ),
    ]);
    // the bucket now holds what the provider said, their real cost included: their answers add nothing
    if (capped[1]) for (const t of counted) t.reflected = true;
  }

  /**
   * Lowers a bucket that believes in more than the provider's remaining (less `uncounted` and the
   * reserve) to it; true when it did. A bucket already lower is left alone: calls the provider counted
   * but this process has not settled still owe it their unused estimates.
   */
  private async cap(
    kind: "requests" | "tokens",
    limit: number | undefined,
    remaining: number | undefined,
    uncounted: number,
  ): Promise<boolean> {
    if (remaining === undefined || limit === undefined) return false;
    const atMost = remaining - uncounted - limit * (this.o.reserve ?? 0.01);
    const { record, now } = await this.store.readGate(`${this.provider}#${kind}`);
    const level =
      record?.tokens == null
        ? limit
        : Math.min(limit, record.tokens + (now - (record.refilledAt ?? now)) * (limit / MINUTE_MS));
    if (level <= atMost) return false;
    await this.take(kind, limit, 0, atMost);
    return true;
  }

  private close(ticket: UsageTicket): boolean {
    if (ticket.settled) return false;
    ticket.settled = true;
    this.open.delete(ticket);
    return true;
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
