import { header, type HeaderBag } from "./retry-after.js";

/**
 * GitHub's secondary rate limits (too many requests at once, too many points a minute): a 403 or 429
 * that says "secondary rate limit", or any 403 with Retry-After. They are rate limits, not refusals of
 * the credentials; GitHub asks for Retry-After to be honoured and, without it, a wait of at least a
 * minute that grows while they go on.
 */
export function isSecondaryLimit(status: number, headers: HeaderBag, body: string): boolean {
  if (status !== 403 && status !== 429) return false;
  return (
    /secondary rate limit/i.test(body) || (status === 403 && header(headers, "retry-after") !== undefined)
  );
}

/** The wait after a secondary limit that came without Retry-After: base, then doubling while they repeat (at most 64×). */
export class SecondaryBackoff {
  private streak = 0;

  next(baseMs: number): number {
    return baseMs * 2 ** Math.min(this.streak++, 6);
  }

  reset(): void {
    this.streak = 0;
  }
}
