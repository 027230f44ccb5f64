import type { ConnectorContext, Doc } from "../connectors/types.js";
import type { PhaseConnectors } from "../connectors/build-connectors.js";
import { errorMessage } from "../errors.js";
import type { ClaimedItem, Settlement } from "../ledger/types.js";
import { backoffDelay } from "../resilience/backoff.js";
import { classifyError } from "../resilience/classify.js";

export interface ItemPolicy {
  force: boolean;
  maxRetries: number;
  retryWaitMs: number;
}

const MAX_BACKOFF_MS = 15 * 60_000;

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === "AbortError" || e.name === "TimeoutError");
}

/**
 * One item: unchanged → SKIPPED; else fetch, enrich, sink → COMPLETED; an error → FAILED (retry
 * after a backoff) or DEAD (permanent, or out of attempts). Undefined when aborted mid-item: the
 * item's lease is released and it stays pending.
 */
export async function processItem(
  item: ClaimedItem,
  c: PhaseConnectors,
  ctx: ConnectorContext,
  policy: ItemPolicy,
): Promise<Settlement | undefined> {
  const base = { id: item.id, fence: item.fence };
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
    for (const step of c.enrich) doc = await step.enrich(doc, ctx);
    const writes = await c.sink.apply({ kind: "upsert", ...doc }, ctx);
    return {
      ...base,
      status: "COMPLETED",
      ...(fingerprint ? { fingerprint } : {}),
      ...(writes ? { writes } : {}),
    };
  } catch (e) {
    if (ctx.signal.aborted && isAbort(e)) return undefined;
    const errorClass = classifyError(e);
    const attempts = item.attempts + 1;
    const message = errorMessage(e).slice(0, 2000);
    if (errorClass === "permanent" || errorClass === "config" || attempts > policy.maxRetries) {
      const reason = errorClass === "permanent" || errorClass === "config" ? errorClass : "retries exhausted";
      return { ...base, status: "DEAD", reason, errorClass, errorMessage: message, attempts };
    }
    const delay = backoffDelay(attempts, policy.retryWaitMs, Math.max(policy.retryWaitMs, MAX_BACKOFF_MS));
    return {
      ...base,
      status: "FAILED",
      errorClass,
      errorMessage: message,
      attempts,
      nextAttemptAt: Date.now() + delay,
    };
  }
}
