import type Database from "better-sqlite3";
import { check, type CheckResult } from "./types.js";

interface LeaseRow {
  job: string;
  phase: string;
  n: number;
}

/** PROCESSING items whose lease expired: their runner stopped without settling them. */
export function expiredLeases(db: Database.Database, now: number): LeaseRow[] {
  return db
    .prepare<[number], LeaseRow>(
      `SELECT job, phase, count(*) AS n FROM items
       WHERE status = 'PROCESSING' AND lease_expires_at < ? GROUP BY job, phase ORDER BY job, phase`,
    )
    .all(now);
}

export function checkLeases(db: Database.Database, now: number): CheckResult {
  const rows = expiredLeases(db, now);
  const total = rows.reduce((a, r) => a + r.n, 0);
  if (total === 0) return check("leases", "ok", "no expired item leases", { expired: 0 });
  return check(
    "leases",
    "warning",
    `${total} items hold an expired lease (${rows.map((r) => `${r.job}/${r.phase}: ${r.n}`).join(", ")})`,
    { expired: total, byPhase: rows },
  );
}

/** PROCESSING items with an expired lease back to PENDING, lease cleared; returns how many. */
export function requeueExpiredLeases(db: Database.Database, now: number): number {
  return db
    .prepare(
      `UPDATE items SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
       WHERE status = 'PROCESSING' AND lease_expires_at < ?`,
    )
    .run(now, now).changes;
}
