import type { MaintenanceStore } from "../ledger/maintenance-store.js";
import { check, type CheckResult } from "./types.js";

/** The ledger's integrity: critical when it fails the check or cannot be opened. */
export async function checkIntegrity(m: MaintenanceStore, thorough: boolean): Promise<CheckResult> {
  const name = "database-integrity";
  const pragma = thorough ? "integrity_check" : "quick_check";
  const file = m.location;
  if (!m.exists()) return check(name, "ok", `no state database yet (${file})`, { file, exists: false });
  const problems = await m.integrity(thorough);
  if (problems.length === 0) return check(name, "ok", `${pragma} passed`, { file, pragma });
  return check(name, "critical", `${pragma} failed: ${problems[0] ?? "unknown problem"}`, {
    file,
    pragma,
    problems,
  });
}
