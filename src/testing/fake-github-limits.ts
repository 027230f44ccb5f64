/**
 * The fake GitHub server's primary rate limit: one budget per token (and one for all anonymous
 * requests) in windows that start at the budget's first counted request, as GitHub's do. The reset
 * is reported in whole epoch seconds, rounded up, and the window ends exactly then.
 */

export interface LimitState {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds. */
  reset: number;
}

/** Proof of a unit taken, for refund(). */
export type Ticket = object;

interface Window {
  used: number;
  /** Epoch seconds; undefined until the first counted request. */
  reset: number | undefined;
}

export class RateWindows {
  private readonly windows = new Map<string | null, Window>();

  constructor(private readonly windowMs: number) {}

  /** The budget's state now (a window that ended is a fresh one). */
  state(key: string | null, limit: number, now = Date.now()): LimitState {
    const w = this.current(key, now);
    return {
      limit,
      used: w.used,
      remaining: Math.max(0, limit - w.used),
      reset: w.reset ?? Math.ceil((now + this.windowMs) / 1000),
    };
  }

  /**
   * Uses one unit, starting the window if it has not started. Returns a ticket for refund(), or
   * undefined (and nothing used) when none is left.
   */
  take(key: string | null, limit: number, now = Date.now()): Ticket | undefined {
    const w = this.current(key, now);
    if (w.used >= limit) return undefined;
    w.reset ??= Math.ceil((now + this.windowMs) / 1000);
    w.used += 1;
    return w;
  }

  /** Gives back the unit a ticket took, if its window is still current (an authorised 304 costs nothing). */
  refund(ticket: Ticket): void {
    const w = ticket as Window;
    if (w.used > 0) w.used -= 1;
  }

  clear(): void {
    this.windows.clear();
  }

  private current(key: string | null, now: number): Window {
    let w = this.windows.get(key);
    if (!w || (w.reset !== undefined && now >= w.reset * 1000)) {
      w = { used: 0, reset: undefined };
      this.windows.set(key, w);
    }
    return w;
  }
}

/** Requests in flight per budget, and the most seen at once. */
export class InFlight {
  private readonly now = new Map<string | null, number>();
  private readonly max = new Map<string | null, number>();
  private total = 0;
  private maxTotal = 0;

  enter(key: string | null): number {
    const n = (this.now.get(key) ?? 0) + 1;
    this.now.set(key, n);
    this.max.set(key, Math.max(this.max.get(key) ?? 0, n));
    this.total += 1;
    this.maxTotal = Math.max(this.maxTotal, this.total);
    return n;
  }

  leave(key: string | null): void {
    this.now.set(key, Math.max(0, (this.now.get(key) ?? 0) - 1));
    this.total = Math.max(0, this.total - 1);
  }

  /** Most at once for a key, or across all keys (undefined). */
  maxSeen(key?: string | null): number {
    return key === undefined ? this.maxTotal : (this.max.get(key) ?? 0);
  }

  /** Forgets the maxima (requests now in flight stay counted). */
  clear(): void {
    this.max.clear();
    for (const [k, n] of this.now) if (n > 0) this.max.set(k, n);
    this.maxTotal = this.total;
  }
}
