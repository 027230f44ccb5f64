import type Database from "better-sqlite3";
import { check, type CheckResult } from "./types.js";

/** Dead items and enrichment debts, per job: work that needs a person (`retry --dead`) or a provider back. */
export function checkBacklog(db: Database.Database): CheckResult {
  const dead = db
    .prepare<[], { job: string; n: number }>(
      "SELECT job, count(*) AS n FROM items WHERE status = 'DEAD' GROUP BY job ORDER BY job",
    )
    .all();
  const debts = db
    .prepare<[], { job: string; n: number }>("SELECT job, count(*) AS n FROM debts GROUP BY job ORDER BY job")
    .all();
  const deadTotal = dead.reduce((a, r) => a + r.n, 0);
  const debtTotal = debts.reduce((a, r) => a + r.n, 0);
  const details = {
    dead: deadTotal,
    debts: debtTotal,
    deadByJob: Object.fromEntries(dead.map((r) => [r.job, r.n])),
    debtsByJob: Object.fromEntries(debts.map((r) => [r.job, r.n])),
  };
  if (deadTotal + debtTotal === 0)
    return check("backlog", "ok", "no dead items, no enrichment debts", details);
  const parts: string[] = [];
  if (deadTotal > 0) parts.push(`${deadTotal} dead items (syncwarden failed; retry --dead)`);
  if (debtTotal > 0) parts.push(`${debtTotal} enrichment debts (retry --debts)`);
  return check("backlog", "warning", parts.join("; "), details);
}
