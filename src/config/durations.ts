import { z } from "zod";

/** The longest a Node timer waits (2^31-1 ms), in whole seconds: a longer delay fires after 1 ms instead. */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const shown = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v) : String(v));

/**
 * A number of seconds from `min` (or above it, when `exclusive`) up to what a timer can wait; every
 * message names the value, the unit and the bound.
 */
export function seconds(min: number, exclusive = false): z.ZodNumber {
  const base = z.number({ error: (i) => `expected a number of seconds, got ${shown(i.input)}` });
  const lower = exclusive
    ? base.gt(min, { error: (i) => `${shown(i.input)} seconds is too short: must be more than ${min}` })
    : base.min(min, { error: (i) => `${shown(i.input)} seconds is too short: must be at least ${min}` });
  return lower.max(MAX_TIMER_SECONDS, {
    error: (i) =>
      `${shown(i.input)} seconds is too long: must be at most ${MAX_TIMER_SECONDS} (about 24.8 days, the longest a timer waits)`,
  });
}
