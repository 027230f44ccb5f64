import type Database from "better-sqlite3";
import type { ErrorClass } from "../../errors.js";
import {
  ITEM_STATUSES,
  type ClaimedItem,
  type ItemRow,
  type ItemStatus,
  type PlannedItem,
  type Settlement,
  type StatusCounts,
} from "../types.js";
import type { DocumentStore } from "./document-store.js";

/** A claimed row as an array (better-sqlite3's raw mode: no object with named keys built per row). */
type ClaimRow = [
  id: number,
  key: string,
  version: string | null,
  op: "upsert" | "delete",
  fence: number,
  attempts: number,
  meta: string | null,
  prev: string | null,
];

const CLAIM_RETURNING = `RETURNING id, key, version, op, fence, attempts, meta,
  (SELECT f.version FROM fingerprints f WHERE f.job = items.job AND f.phase = items.phase AND f.key = items.key) AS prev`;

function toClaimed([id, key, version, op, fence, attempts, meta, prev]: ClaimRow): ClaimedItem {
  return {
    id,
    key,
    version,
    op,
    fence,
    attempts,
    prevVersion: prev,
    meta: meta === null ? undefined : (JSON.parse(meta) as Record<string, unknown>),
  };
}

/** Item transitions: record, claim (lease + fence), settle in batches, requeue. */
export class ItemStore {
  private readonly insertItem;
  private readonly claimPending;
  private readonly claimDue;
  private readonly settleDone;
  private readonly settleFailed;
  private readonly setFingerprint;
  private readonly deleteFingerprint;
  private readonly countByStatus;
  private readonly clearDebts;
  private readonly insertDebt;

  constructor(
    private readonly db: Database.Database,
    private readonly docs: DocumentStore,
  ) {
    this.insertItem = db.prepare<
      [number, string, string, string, string | null, string, string | null, number]
    >(
      `INSERT OR IGNORE INTO items (plan_id, job, phase, key, version, op, meta, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.claimPending = db
      .prepare<[string, number, number, number, number, number], ClaimRow>(
        `UPDATE items SET status = 'PROCESSING', lease_owner = ?, lease_expires_at = ?, fence = fence + 1, updated_at = ?
       WHERE id IN (SELECT id FROM items WHERE plan_id = ? AND status = 'PENDING'
                      AND (next_attempt_at IS NULL OR next_attempt_at <= ?) ORDER BY id LIMIT ?)
       ${CLAIM_RETURNING}`,
      )
      .raw(true);
    this.claimDue = db
      .prepare<[string, number, number, number, number, number], ClaimRow>(
        `UPDATE items SET status = 'PROCESSING', lease_owner = ?, lease_expires_at = ?, fence = fence + 1, updated_at = ?
       WHERE id IN (SELECT id FROM items WHERE plan_id = ? AND status = 'FAILED' AND next_attempt_at <= ?
                    ORDER BY id LIMIT ?)
       ${CLAIM_RETURNING}`,
      )
      .raw(true);
    this.settleDone = db.prepare<[string, string | null, number, number, number]>(
      `UPDATE items SET status = ?, reason = ?, lease_owner = NULL, lease_expires_at = NULL,
         error_class = NULL, error_message = NULL, next_attempt_at = NULL, updated_at = ?
       WHERE id = ? AND fence = ? AND status = 'PROCESSING'`,
    );
    this.settleFailed = db.prepare<
      [string, string | null, string | null, string | null, number, number | null, number, number, number]
    >(
      `UPDATE items SET status = ?, reason = ?, error_class = ?, error_message = ?, attempts = ?,
         next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
       WHERE id = ? AND fence = ? AND status = 'PROCESSING'`,
    );
    this.setFingerprint = db.prepare<[string, string, string, string, number]>(
      `INSERT INTO fingerprints (job, phase, key, version, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (job, phase, key) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
    );
    this.deleteFingerprint = db.prepare<[string, string, string]>(
      "DELETE FROM fingerprints WHERE job = ? AND phase = ? AND key = ?",
    );
    this.clearDebts = db.prepare<[string, string, string]>(
      "DELETE FROM debts WHERE job = ? AND phase = ? AND key = ?",
    );
    this.insertDebt = db.prepare<
      [string, string, string, string, number, string | null, string, number, number]
    >(
      `INSERT INTO debts (job, phase, key, version, step, provider, reason, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.countByStatus = db.prepare<[number], { status: ItemStatus; n: number }>(
      "SELECT status, COUNT(*) AS n FROM items WHERE plan_id = ? GROUP BY status",
    );
  }

  record(planId: number, job: string, phase: string, items: readonly PlannedItem[], now: number): void {
    this.db.transaction(() => {
      for (const it of items) {
        const meta = it.meta === undefined ? null : JSON.stringify(it.meta);
        this.insertItem.run(planId, job, phase, it.key, it.version, it.op, meta, now);
      }
    })();
  }

  claim(planId: number, owner: string, leaseUntil: number, limit: number, now: number): ClaimedItem[] {
    return this.db
      .transaction(() => {
        const due = this.claimDue.all(owner, leaseUntil, now, planId, now, limit);
        const rest =
          due.length < limit
            ? this.claimPending.all(owner, leaseUntil, now, planId, now, limit - due.length)
            : [];
        return [...due, ...rest].map(toClaimed).sort((a, b) => a.id - b.id);
      })
      .immediate();
  }

  /** One transaction for the batch: status, fingerprint and document writes commit together. */
  settle(settlements: readonly Settlement[], now: number): void {
    this.db
      .transaction(() => {
        for (const s of settlements) {
          if (s.status === "COMPLETED" || s.status === "SKIPPED") {
            // fenced out: another runner owns this item now
            if (this.settleDone.run(s.status, s.reason ?? null, now, s.id, s.fence).changes === 0) continue;
            const row = s;
            if (typeof s.fingerprint === "string")
              this.setFingerprint.run(row.job, row.phase, row.key, s.fingerprint, now);
            else if (s.fingerprint === null) this.deleteFingerprint.run(row.job, row.phase, row.key);
            for (const w of s.writes ?? []) this.docs.apply(w, now);
            if (s.status === "COMPLETED" && (s.enriched || s.fingerprint === null)) {
              // a fully enriched completion pays every old debt of the key; a raw one records what is owed
              this.clearDebts.run(row.job, row.phase, row.key);
              for (const d of s.debts ?? []) {
                this.insertDebt.run(
                  row.job,
                  row.phase,
                  row.key,
                  s.fingerprint ?? "",
                  d.step,
                  d.provider,
                  d.reason,
                  now,
                  now,
                );
              }
            }
          } else {
            this.settleFailed.run(
              s.status,
              s.reason ?? null,
              s.errorClass ?? null,
              s.errorMessage ?? null,
              s.attempts ?? 0,
              s.nextAttemptAt ?? null,
              now,
              s.id,
              s.fence,
            );
          }
        }
      })
      .immediate();
  }

  requeueAbandoned(planId: number, now: number, isOwnerGone: (owner: string) => boolean): number {
    const owners = this.db
      .prepare<[number], { owner: string; expires: number }>(
        `SELECT lease_owner AS owner, MIN(lease_expires_at) AS expires FROM items
         WHERE plan_id = ? AND status = 'PROCESSING' GROUP BY lease_owner`,
      )
      .all(planId);
    let n = 0;
    const requeue = this.db.prepare<[number, number, string, number]>(
      `UPDATE items SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
       WHERE plan_id = ? AND status = 'PROCESSING' AND lease_owner = ? AND lease_expires_at < ?`,
    );
    for (const { owner, expires } of owners) {
      // a dead holder on this host frees all its items at once; otherwise only expired leases
      if (isOwnerGone(owner)) n += requeue.run(now, planId, owner, Number.MAX_SAFE_INTEGER).changes;
      else if (expires < now) n += requeue.run(now, planId, owner, now).changes;
    }
    return n;
  }

  // by plan and status, so the claim index serves them and no index on lease_owner has to be kept up
  renew(planId: number, owner: string, leaseUntil: number): void {
    this.db
      .prepare(
        "UPDATE items SET lease_expires_at = ? WHERE plan_id = ? AND status = 'PROCESSING' AND lease_owner = ?",
      )
      .run(leaseUntil, planId, owner);
  }

  release(planId: number, owner: string, now: number): number {
    return this.db
      .prepare(
        `UPDATE items SET status = 'PENDING', lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
         WHERE plan_id = ? AND status = 'PROCESSING' AND lease_owner = ?`,
      )
      .run(now, planId, owner).changes;
  }

  count(planId: number): StatusCounts {
    const counts = Object.fromEntries(ITEM_STATUSES.map((s) => [s, 0])) as StatusCounts;
    for (const { status, n } of this.countByStatus.all(planId)) counts[status] = n;
    return counts;
  }

  countReasons(planId: number, status: ItemStatus): Record<string, number> {
    const rows = this.db
      .prepare<[number, string], { reason: string | null; n: number }>(
        "SELECT reason, COUNT(*) AS n FROM items WHERE plan_id = ? AND status = ? GROUP BY reason",
      )
      .all(planId, status);
    return Object.fromEntries(rows.map((r) => [r.reason ?? "unspecified", r.n]));
  }

  nextAttemptAt(planId: number): number | undefined {
    const row = this.db
      .prepare<[number], { t: number | null }>(
        "SELECT MIN(next_attempt_at) AS t FROM items WHERE plan_id = ? AND status IN ('FAILED', 'PENDING')",
      )
      .get(planId);
    return row?.t ?? undefined;
  }

  /** One page of item rows after `afterId`, in id order. */
  list(filter: { job?: string; statuses: readonly ItemStatus[] }, afterId: number, limit: number): ItemRow[] {
    const marks = filter.statuses.map(() => "?").join(", ");
    const stmt = this.db.prepare<unknown[], Record<string, unknown>>(
      `SELECT id, plan_id, job, phase, key, version, op, status, attempts, reason, error_class, error_message,
              next_attempt_at, updated_at
       FROM items WHERE status IN (${marks}) AND (? IS NULL OR job = ?) AND id > ? ORDER BY id LIMIT ?`,
    );
    return stmt.all(...filter.statuses, filter.job ?? null, filter.job ?? null, afterId, limit).map((r) => ({
      id: r.id as number,
      planId: r.plan_id as number,
      job: r.job as string,
      phase: r.phase as string,
      key: r.key as string,
      version: r.version as string | null,
      op: r.op as string,
      status: r.status as ItemStatus,
      attempts: r.attempts as number,
      reason: r.reason as string | null,
      errorClass: r.error_class as ErrorClass | null,
      errorMessage: r.error_message as string | null,
      nextAttemptAt: r.next_attempt_at as number | null,
      updatedAt: r.updated_at as number,
    }));
  }

  /** Back to PENDING with a fresh attempt budget (a redrive). */
  requeue(filter: { job?: string; statuses: readonly ItemStatus[] }, now: number): number {
    const marks = filter.statuses.map(() => "?").join(", ");
    return this.db
      .prepare(
        `UPDATE items SET status = 'PENDING', attempts = 0, next_attempt_at = NULL, error_class = NULL,
           error_message = NULL, reason = NULL, updated_at = ?
         WHERE status IN (${marks}) AND (? IS NULL OR job = ?)`,
      )
      .run(now, ...filter.statuses, filter.job ?? null, filter.job ?? null).changes;
  }
}
