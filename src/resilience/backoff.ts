/** Delay before retry number `attempt` (1-based): exponential from `baseMs`, capped, with full jitter. */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  if (baseMs <= 0) return 0;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  // full jitter, but never below half the base so a retry storm cannot start at once
  return Math.round(baseMs / 2 + random() * Math.max(0, ceiling - baseMs / 2));
}
