import type { LeaseCount } from "../ledger/types.js";
import { check, type CheckResult } from "./types.js";

/** PROCESSING items whose lease expired (the ledger's clock): their runner stopped without settling them. */
export function checkLeases(rows: readonly LeaseCount[]): CheckResult {
  const total = rows.reduce((a, r) => a + r.n, 0);
  if (total === 0) return check("leases", "ok", "no expired item leases", { expired: 0 });
  return check(
    "leases",
    "warning",
    `${total} items hold an expired lease (${rows.map((r) => `${r.job}/${r.phase}: ${r.n}`).join(", ")})`,
    { expired: total, byPhase: rows },
  );
}
