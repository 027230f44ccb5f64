/**
 * A millisecond time or duration for a BIGINT column or parameter. BIGINT refuses a fraction (SQLite's
 * INTEGER affinity keeps one as REAL), and durations from the configuration carry one (1.1 s * 1000 is
 * 1100.0000000000002): rounded up, so a lease, a pause or a cooldown is never shortened.
 */
export function millis(v: number): number;
export function millis(v: number | null): number | null;
export function millis(v: number | null): number | null {
  return v === null ? null : Math.ceil(v);
}
