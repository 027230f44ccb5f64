import { header, type HeaderBag } from "./retry-after.js";
import { parseResetDuration } from "./reset-duration.js";

/** One of an OpenAI-style provider's limits as an answer reports it. */
export interface UsageLimit {
  limit: number | undefined;
  remaining: number;
  /** Until the limit is whole again, in ms (x-ratelimit-reset-*: `6m0s`). */
  resetMs: number | undefined;
}

/** `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`: what OpenAI and compatible servers send. */
export interface UsageLimits {
  requests?: UsageLimit;
  tokens?: UsageLimit;
}

function one(h: HeaderBag, kind: "requests" | "tokens"): UsageLimit | undefined {
  const raw = header(h, `x-ratelimit-remaining-${kind}`);
  const remaining = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isFinite(remaining)) return undefined;
  const limit = Number(header(h, `x-ratelimit-limit-${kind}`));
  return {
    limit: Number.isFinite(limit) && limit > 0 ? limit : undefined,
    remaining,
    resetMs: parseResetDuration(header(h, `x-ratelimit-reset-${kind}`)),
  };
}

export function parseUsageLimits(h: HeaderBag): UsageLimits {
  const requests = one(h, "requests");
  const tokens = one(h, "tokens");
  return { ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}) };
}

/**
 * How long a 429 without Retry-After should wait, from its x-ratelimit-* headers (ms): an exhausted
 * limit's reset; else (some tokens remain, too few for the request) the soonest reset of a limit in
 * use. Undefined without such headers.
 */
export function exhaustedWaitMs(limits: UsageLimits): number | undefined {
  const present = [limits.requests, limits.tokens].filter(
    (l): l is UsageLimit => l !== undefined && (l.resetMs ?? 0) > 0,
  );
  const exhausted = present.filter((l) => l.remaining <= 0).map((l) => l.resetMs!);
  if (exhausted.length > 0) return Math.max(...exhausted);
  const inUse = present.filter((l) => l.limit === undefined || l.remaining < l.limit).map((l) => l.resetMs!);
  return inUse.length > 0 ? Math.min(...inUse) : undefined;
}
