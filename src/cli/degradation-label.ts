import type { SyncResult } from "../service/types.js";

/**
 * The degradation worth printing for a run, or undefined. A run that failed or was cancelled did not
 * store everything, so "full" from it (older runs recorded that) is not printed; any other value is.
 */
export function degradationLabel(r: Pick<SyncResult, "status" | "degradation">): string | undefined {
  if ((r.status === "failed" || r.status === "cancelled") && r.degradation === "full") return undefined;
  return r.degradation;
}
