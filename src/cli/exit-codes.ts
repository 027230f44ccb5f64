import { isConfigError, isLockedError, isUsageError } from "../errors.js";
import type { SyncResult } from "../service/types.js";

/** CLI exit codes (DESIGN.md). */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  partial: 3,
  locked: 75,
  config: 78,
  interrupted: 130,
} as const;

export function exitCodeForError(e: unknown): number {
  if (isConfigError(e)) return EXIT.config;
  if (isLockedError(e)) return EXIT.locked;
  if (isUsageError(e)) return EXIT.usage;
  return EXIT.internal;
}

/** The worst outcome across a command's runs decides the exit code. */
export function exitCodeForResults(results: readonly SyncResult[]): number {
  const codes = results.map((r) => {
    switch (r.status) {
      case "completed":
        // every item is done, but some were stored without their enrichment (debts owed)
        return r.degradation === "full" ? EXIT.ok : EXIT.partial;
      case "skipped":
        return EXIT.ok;
      case "partial":
        return EXIT.partial;
      case "cancelled":
        return EXIT.interrupted;
      case "failed":
        return r.error?.errorClass === "config" ? EXIT.config : EXIT.internal;
    }
  });
  const rank = [EXIT.interrupted, EXIT.config, EXIT.internal, EXIT.partial, EXIT.ok];
  return rank.find((c) => codes.includes(c)) ?? EXIT.ok;
}
