import { check, type CheckResult } from "./types.js";

/** Dead items and enrichment debts, per job: work that needs a person (`retry --dead`) or a provider back. */
export function checkBacklog(
  deadByJob: Record<string, number>,
  debtsByJob: Record<string, number>,
): CheckResult {
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  const dead = sum(deadByJob);
  const debts = sum(debtsByJob);
  const details = { dead, debts, deadByJob, debtsByJob };
  if (dead + debts === 0) return check("backlog", "ok", "no dead items, no enrichment debts", details);
  const parts: string[] = [];
  if (dead > 0) parts.push(`${dead} dead items (syncwarden failed; retry --dead)`);
  if (debts > 0) parts.push(`${debts} enrichment debts (retry --debts)`);
  return check("backlog", "warning", parts.join("; "), details);
}
