/** Header lookup that works for fetch Headers and plain objects. */
export type HeaderBag = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

export function header(h: HeaderBag, name: string): string | undefined {
  if (typeof (h as { get?: unknown }).get === "function")
    return (h as { get(n: string): string | null }).get(name) ?? undefined;
  const v = (h as Record<string, string | string[] | undefined>)[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Retry-After as milliseconds from `now`: seconds or an HTTP date; zero, negative or unparsable means no hint. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(v)) {
    const s = Number(v);
    return s > 0 ? Math.round(s * 1000) : undefined;
  }
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return at - now > 0 ? at - now : undefined;
}

/**
 * The wait a response asks for: `retry-after-ms` (OpenAI's, in ms) first, then Retry-After; undefined
 * without a usable hint.
 */
export function retryAfterHint(h: HeaderBag, now: number): number | undefined {
  const ms = Number(header(h, "retry-after-ms"));
  if (header(h, "retry-after-ms") !== undefined && Number.isFinite(ms) && ms > 0) return Math.ceil(ms);
  return parseRetryAfter(header(h, "retry-after"), now);
}

export interface RateLimitInfo {
  limit: number | undefined;
  remaining: number;
  /** Epoch ms when the window resets. */
  resetAt: number | undefined;
}

/**
 * X-RateLimit-Remaining / X-RateLimit-Reset (epoch seconds, or seconds from now when small, as some
 * providers send). Undefined when the provider sends no remaining count.
 */
export function parseRateLimit(h: HeaderBag, now: number): RateLimitInfo | undefined {
  const remaining = Number(header(h, "x-ratelimit-remaining"));
  if (header(h, "x-ratelimit-remaining") === undefined || !Number.isFinite(remaining)) return undefined;
  const rawReset = header(h, "x-ratelimit-reset");
  const reset = rawReset === undefined ? NaN : Number(rawReset);
  const limit = Number(header(h, "x-ratelimit-limit"));
  let resetAt: number | undefined;
  if (Number.isFinite(reset)) resetAt = reset > 1e9 ? reset * 1000 : now + reset * 1000;
  return { limit: Number.isFinite(limit) ? limit : undefined, remaining, resetAt };
}
