import type { PhaseConnectors } from "../connectors/build-connectors.js";
import type { ConnectorContext, Doc } from "../connectors/types.js";
import {
  errorMessage,
  isBrokenCircuitError,
  isDegradableError,
  retryHintMs,
  type ErrorClass,
} from "../errors.js";
import type { ClaimedItem, NewDebt, Settlement } from "../ledger/types.js";
import { backoffDelay } from "../resilience/backoff.js";
import { classifyError } from "../resilience/classify.js";
import { redact } from "../config/secrets.js";

export interface ItemPolicy {
  force: boolean;
  maxRetries: number;
  retryWaitMs: number;
  /** Pause for a rate limit that came without a hint. */
  rateLimitWaitMs: number;
  /** Told when a rate limit deferred an item, with the time it resets (epoch ms). */
  onRateLimitDeferral?: (until: number) => void;
  /** Told the provider whose open breaker deferred an item (the run watches it while it waits). */
  onBreakerDeferral?: (provider: string) => void;
}

const MAX_BACKOFF_MS = 15 * 60_000;
/** Deferrals (open breaker, rate limit) do not consume attempts; this many in a row park the item as dead anyway. */
const MAX_DEFERRALS = 1000;

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === "AbortError" || e.name === "TimeoutError");
}

/** The provider is unavailable for now: the item waits (degradable steps are skipped instead). */
function isOutage(cls: ErrorClass): boolean {
  return cls === "unavailable" || cls === "rate_limited" || cls === "transient";
}

/**
 * One item: unchanged → SKIPPED; else fetch, enrich, sink → COMPLETED (raw, with debts, when a
 * degradable step's provider is down or the step failed in a way it marks degradable); an error → FAILED (retry after a backoff), PENDING (deferred
 * while a breaker is open or a rate limit lasts, no attempt consumed) or DEAD (permanent, or out
 * of attempts), or PENDING with class "config" when a provider refused the credentials (the run
 * stops: every other item would be refused too). Undefined when aborted mid-item: the lease is
 * released and the item stays pending.
 */
export async function processItem(
  item: ClaimedItem,
  c: PhaseConnectors,
  ctx: ConnectorContext,
  policy: ItemPolicy,
): Promise<Settlement | undefined> {
  const base = {
    id: item.id,
    fence: item.fence,
    job: ctx.job,
    phase: ctx.phase,
    key: item.key,
    enriched: c.enrich.length > 0,
  };
  try {
    if (item.op === "delete") {
      const writes = await c.sink.apply({ kind: "delete", key: item.key }, ctx);
      return { ...base, status: "COMPLETED", fingerprint: null, ...(writes ? { writes } : {}) };
    }
    if (!policy.force && item.prevVersion !== null && item.prevVersion === item.version) {
      return { ...base, status: "SKIPPED", reason: "unchanged" };
    }
    const fetched = await c.source.fetch(item, ctx);
    const fingerprint = item.version ?? undefined;
    if ("skip" in fetched) {
      // a file that became binary or too big must not leave its old text behind
      const writes =
        item.prevVersion !== null ? await c.sink.apply({ kind: "delete", key: item.key }, ctx) : undefined;
      return {
        ...base,
        status: "SKIPPED",
        reason: fetched.skip,
        ...(fingerprint ? { fingerprint } : {}),
        ...(writes ? { writes } : {}),
      };
    }
    let doc: Doc = {
      key: item.key,
      version: item.version ?? "",
      content: fetched.content,
      metadata: fetched.metadata ?? {},
    };
    const debts: NewDebt[] = [];
    for (const [i, e] of c.enrich.entries()) {
      try {
        doc = await e.step.enrich(doc, ctx);
      } catch (err) {
        // an outage, or a failure the step marks as survivable (an answer malformed twice): raw, owed
        const survivable = isOutage(classifyError(err)) || isDegradableError(err);
        if (!e.degradable || ctx.signal.aborted || !survivable) throw err;
        debts.push({ step: i, provider: e.provider, reason: redact(errorMessage(err)).slice(0, 500) });
      }
    }
    const writes = await c.sink.apply({ kind: "upsert", ...doc }, ctx);
    return {
      ...base,
      status: "COMPLETED",
      ...(debts.length > 0 ? { debts, reason: "raw" } : {}),
      ...(fingerprint ? { fingerprint } : {}),
      ...(writes ? { writes } : {}),
    };
  } catch (e) {
    if (ctx.signal.aborted && isAbort(e)) return undefined;
    return failed(e, base, item.attempts, policy);
  }
}

/**
 * A failed item's settlement: deferred (PENDING, no attempt used) while a breaker is open or a rate
 * limit lasts; DEAD when permanent or out of attempts; else FAILED, due again after a backoff.
 */
function failed(
  e: unknown,
  base: Pick<Settlement, "id" | "fence" | "job" | "phase" | "key" | "enriched">,
  attempts: number,
  policy: ItemPolicy,
): Settlement {
  const errorClass = classifyError(e);
  const message = redact(errorMessage(e)).slice(0, 2000);
  const deferFor = isBrokenCircuitError(e)
    ? Math.max(0, (e.retryAt ?? Date.now() + 60_000) - Date.now())
    : errorClass === "rate_limited"
      ? (retryHintMs(e) ?? policy.rateLimitWaitMs)
      : undefined;
  // refused credentials are the configuration's fault, not the item's: it waits, unharmed, for a fixed config
  if (errorClass === "config")
    return { ...base, status: "PENDING", reason: "config", errorClass, errorMessage: message, attempts };
  if (deferFor !== undefined && attempts < MAX_DEFERRALS) {
    if (isBrokenCircuitError(e)) policy.onBreakerDeferral?.(e.provider);
    else if (errorClass === "rate_limited") policy.onRateLimitDeferral?.(Date.now() + deferFor);
    return {
      ...base,
      status: "PENDING",
      reason: "deferred",
      errorClass,
      errorMessage: message,
      attempts,
      retryInMs: deferFor,
    };
  }
  const used = attempts + 1;
  if (errorClass === "permanent" || used > policy.maxRetries) {
    const reason = errorClass === "permanent" ? errorClass : "retries exhausted";
    return { ...base, status: "DEAD", reason, errorClass, errorMessage: message, attempts: used };
  }
  const delay = backoffDelay(used, {
    baseMs: policy.retryWaitMs,
    maxMs: Math.max(policy.retryWaitMs, MAX_BACKOFF_MS),
  });
  return { ...base, status: "FAILED", errorClass, errorMessage: message, attempts: used, retryInMs: delay };
}
