export type Jitter = "full" | "decorrelated" | "none";

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  exponentialBase?: number;
  jitter?: Jitter;
}

/**
 * Delay before retry number `attempt` (1-based). full: uniform in [0, min(max, base·e^(n-1))];
 * decorrelated: uniform in [base, 3·previous], capped; none: the exponential itself.
 */
export function backoffDelay(
  attempt: number,
  o: BackoffOptions,
  previousMs = o.baseMs,
  random: () => number = Math.random,
): number {
  if (o.baseMs <= 0) return 0;
  const ceiling = Math.min(o.maxMs, o.baseMs * (o.exponentialBase ?? 2) ** Math.max(0, attempt - 1));
  switch (o.jitter ?? "full") {
    case "none":
      return Math.round(ceiling);
    case "decorrelated": {
      const hi = Math.max(o.baseMs, previousMs * 3);
      return Math.round(Math.min(o.maxMs, o.baseMs + random() * (hi - o.baseMs)));
    }
    case "full":
      return Math.round(random() * ceiling);
  }
}
