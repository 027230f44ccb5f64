import { formatResetDuration } from "../resilience/reset-duration.js";

/** A limit refilled continuously, `limit` per minute, as OpenAI's are: remaining and time to whole. */
class MinuteBucket {
  private level: number;
  private at: number;

  constructor(
    readonly limit: number,
    now: number,
  ) {
    this.level = limit;
    this.at = now;
  }

  remaining(now: number): number {
    this.level = Math.min(this.limit, this.level + ((now - this.at) * this.limit) / 60_000);
    this.at = now;
    return this.level;
  }

  take(n: number, now: number): void {
    this.remaining(now);
    this.level -= n;
  }

  /** Until the bucket is full again (x-ratelimit-reset-*). */
  resetMs(now: number): number {
    return ((this.limit - this.remaining(now)) * 60_000) / this.limit;
  }
}

export interface LimitVerdict {
  headers: Record<string, string>;
  /** Set when the request is over a limit: which, and for how long. */
  over?: { kind: "requests" | "tokens"; waitMs: number; tooLarge: boolean };
}

/** The fake's requests-per-minute and tokens-per-minute limits, with OpenAI's x-ratelimit-* headers. */
export class FakeLlmLimits {
  private readonly requests: MinuteBucket | undefined;
  private readonly tokens: MinuteBucket | undefined;

  constructor(limits: { requestsPerMinute?: number; tokensPerMinute?: number }, now = Date.now()) {
    this.requests = limits.requestsPerMinute ? new MinuteBucket(limits.requestsPerMinute, now) : undefined;
    this.tokens = limits.tokensPerMinute ? new MinuteBucket(limits.tokensPerMinute, now) : undefined;
  }

  /** Admits (and counts) a request of `cost` tokens, or says which limit it is over. */
  admit(cost: number, now = Date.now()): LimitVerdict {
    const r = this.requests;
    const t = this.tokens;
    let over: LimitVerdict["over"];
    if (t && cost > t.limit) over = { kind: "tokens", waitMs: 0, tooLarge: true };
    else if (r && r.remaining(now) < 1)
      over = { kind: "requests", waitMs: ((1 - r.remaining(now)) * 60_000) / r.limit, tooLarge: false };
    else if (t && t.remaining(now) < cost)
      over = { kind: "tokens", waitMs: ((cost - t.remaining(now)) * 60_000) / t.limit, tooLarge: false };
    if (!over) {
      r?.take(1, now);
      t?.take(cost, now);
    }
    return { headers: this.headers(now), ...(over ? { over } : {}) };
  }

  headers(now = Date.now()): Record<string, string> {
    const h: Record<string, string> = {};
    for (const [kind, b] of [
      ["requests", this.requests],
      ["tokens", this.tokens],
    ] as const) {
      if (!b) continue;
      h[`x-ratelimit-limit-${kind}`] = String(b.limit);
      h[`x-ratelimit-remaining-${kind}`] = String(Math.max(0, Math.floor(b.remaining(now))));
      h[`x-ratelimit-reset-${kind}`] = formatResetDuration(b.resetMs(now));
    }
    return h;
  }
}
