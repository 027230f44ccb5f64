import type { StorageFacts } from "../ledger/maintenance-store.js";
import { check, formatBytes, type CheckResult } from "./types.js";

/** The ledger's size against `doctor.max_db_bytes`: critical over it (ok, and says so, when no limit is set). */
export function checkLedgerSize(f: StorageFacts, maxBytes: number | undefined): CheckResult {
  const bytes = f.dbBytes + f.walBytes;
  const details = { bytes, maxBytes: maxBytes ?? null };
  if (maxBytes === undefined)
    return check("ledger-size", "ok", `${formatBytes(bytes)} (no limit: doctor.max_db_bytes)`, details);
  if (bytes > maxBytes)
    return check(
      "ledger-size",
      "critical",
      `${formatBytes(bytes)} is over doctor.max_db_bytes (${formatBytes(maxBytes)}): prune old jobs, or compact (doctor --repair)`,
      details,
    );
  return check(
    "ledger-size",
    "ok",
    `${formatBytes(bytes)} of ${formatBytes(maxBytes)} (doctor.max_db_bytes)`,
    details,
  );
}
