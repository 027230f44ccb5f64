/**
 * A millisecond time or duration for a BIGINT column or parameter. BIGINT refuses a fraction (SQLite's
 * INTEGER affinity keeps one as REAL), and durations from the configuration carry one (1.005 s * 1000
 * is 1004.9999999999999): rounded up, so a lease, a pause or a cooldown is never shortened.
 */
export function millis(v: number): number;
export function millis(v: number | null): number | null;
export function millis(v: number | null): number | null {
  return v === null ? null : Math.ceil(v);
}
