import { parseDuration } from "../config/schedule.js";
import { UsageError } from "../errors.js";

/** A positive integer flag (`--limit`), or a UsageError naming it and the value. */
export function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/** A point in time flag (`--since`): an ISO date or time, or a duration ago (30m, 2h, 7d); epoch ms. */
export function pointInTime(flag: string, value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const ago = parseDuration(value);
  if (ago !== null) return now - ago;
  const t = Date.parse(value);
  if (Number.isNaN(t))
    throw new UsageError(
      `${flag} must be an ISO date or time (2026-12-01T09:00Z) or a duration ago (30m, 2h, 7d), got "${value}"`,
    );
  return t;
}
