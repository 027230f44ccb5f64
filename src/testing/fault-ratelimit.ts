/** Fixed-window rate limiter for the fault-injecting test server. */

export interface RateLimitDecision {
  /** X-RateLimit-* headers every response carries while a limit is configured. */
  headers: Record<string, string>;
  /** Set when the request is over the limit: the status and extra headers to answer with. */
  reject?: { status: 429 | 403; headers: Record<string, string> };
}

export class FixedWindowLimiter {
  private start = 0;
  private count = 0;

  constructor(
    private readonly limit: { requests: number; windowMs: number; mode?: "429" | "403"; aligned?: boolean },
  ) {
    if (!Number.isInteger(limit.requests) || limit.requests < 1) {
      throw new RangeError("rateLimit.requests must be a positive integer");
    }
    if (!(limit.windowMs > 0)) throw new RangeError("rateLimit.windowMs must be positive");
  }

  /** Counts one request (every request counts, including rejected ones) and decides it. */
  take(now = Date.now()): RateLimitDecision {
    const { requests, windowMs, mode, aligned } = this.limit;
    if (this.count === 0 || now - this.start >= windowMs) {
      this.start = aligned ? now - (now % windowMs) : now;
      this.count = 0;
    }
    this.count += 1;
    const resetAtMs = this.start + windowMs;
    const headers = {
      "x-ratelimit-limit": String(requests),
      "x-ratelimit-remaining": String(Math.max(0, requests - this.count)),
      "x-ratelimit-reset": String(Math.ceil(resetAtMs / 1000)),
    };
    if (this.count <= requests) return { headers };
    if (mode === "403") return { headers, reject: { status: 403, headers: {} } };
    const retryAfter = String(Math.max(1, Math.ceil((resetAtMs - now) / 1000)));
    return { headers, reject: { status: 429, headers: { "retry-after": retryAfter } } };
  }
}
