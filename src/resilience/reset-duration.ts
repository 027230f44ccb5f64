/** One part of a Go-style duration: a number and its unit. */
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/**
 * A rate-limit reset as OpenAI and compatible servers send it (`x-ratelimit-reset-tokens: 6m0s`,
 * `1m30.5s`, `250ms`, `1h2m`), or plain seconds (`12`, `0.5`), in ms; undefined when unparsable.
 */
export function parseResetDuration(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  PART.lastIndex = 0;
  let ms = 0;
  let end = 0;
  for (let m = PART.exec(v); m !== null; m = PART.exec(v)) {
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
    end = PART.lastIndex;
  }
  return end === v.length && end > 0 ? Math.round(ms) : undefined;
}

/** A duration as OpenAI writes one: `120ms` under a second, `1.5s` under a minute, `6m0s` beyond. */
export function formatResetDuration(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 1000) return `${whole}ms`;
  const seconds = (n: number): string => String(Math.round(n * 1000) / 1000);
  if (whole < 60_000) return `${seconds(whole / 1000)}s`;
  const h = Math.floor(whole / 3_600_000);
  const m = Math.floor((whole % 3_600_000) / 60_000);
  const s = seconds((whole % 60_000) / 1000);
  return h > 0 ? `${h}h${m}m${s}s` : `${m}m${s}s`;
}
