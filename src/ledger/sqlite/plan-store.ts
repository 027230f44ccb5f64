import type Database from "better-sqlite3";
import { SyncError } from "../../errors.js";
import type { ItemFilter, PlanStore } from "../plan-store.js";
import type {
  Checkpoint,
  ClaimedItem,
  ItemRow,
  ItemStatus,
  LeaseCount,
  LeaseHolder,
  PhaseRef,
  PlanMode,
  PlannedItem,
  PlanRecord,
  Settlement,
  StatusCounts,
} from "../types.js";
import { NOW } from "./clock.js";
import type { SqliteDocumentStore } from "./document-store.js";
import { ItemTransitions } from "./item-transitions.js";
import { fenceValid } from "./lock-store.js";
import { toPlan, type PlanRow } from "../rows.js";

/** Plans, their items and the checkpoints they move, in one SQLite file. */
export class SqlitePlanStore implements PlanStore {
  private readonly items: ItemTransitions;

  constructor(
    private readonly db: Database.Database,
    private readonly docs: SqliteDocumentStore,
  ) {
    this.items = new ItemTransitions(db, docs);
  }

  findPlan(ref: PhaseRef, state: "planning" | "open"): Promise<PlanRecord | undefined> {
    const row = this.db
      .prepare<[string, string, string, string], PlanRow>(
        "SELECT * FROM plans WHERE job = ? AND phase = ? AND scope = ? AND state = ? ORDER BY id DESC LIMIT 1",
      )
      .get(ref.job, ref.phase, ref.scope, state);
    return Promise.resolve(row && toPlan(row));
  }

  latestPlan(ref: PhaseRef): Promise<PlanRecord | undefined> {
    const row = this.db
      .prepare<[string, string, string], PlanRow>(
        "SELECT * FROM plans WHERE job = ? AND phase = ? AND scope = ? ORDER BY id DESC LIMIT 1",
      )
      .get(ref.job, ref.phase, ref.scope);
    return Promise.resolve(row && toPlan(row));
  }

  createPlan(
    ref: PhaseRef,
    from: string | null,
    target: string | null,
    mode: PlanMode,
    forced = false,
  ): Promise<PlanRecord> {
    const row = this.db
      .prepare<[string, string, string, string | null, string | null, string, number], PlanRow>(
        `INSERT INTO plans (job, phase, scope, from_checkpoint, target, mode, forced, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'planning', ${NOW}) RETURNING *`,
      )
      .get(ref.job, ref.phase, ref.scope, from, target, mode, forced ? 1 : 0)!;
    return Promise.resolve(toPlan(row));
  }

  recordItems(plan: PlanRecord, items: readonly PlannedItem[]): Promise<void> {
    this.items.record(plan.id, plan.job, plan.phase, items);
    return Promise.resolve();
  }

  sealPlan(plan: PlanRecord): Promise<void> {
    this.db
      .transaction(() => {
        if (plan.mode === "snapshot" && plan.scope === "") {
          this.db
            .prepare(
              `INSERT OR IGNORE INTO items (plan_id, job, phase, key, version, op, updated_at)
               SELECT @plan, f.job, f.phase, f.key, NULL, 'delete', ${NOW} FROM fingerprints f
               WHERE f.job = @job AND f.phase = @phase
                 AND NOT EXISTS (SELECT 1 FROM items i WHERE i.plan_id = @plan AND i.key = f.key AND i.op = 'upsert')`,
            )
            .run({ plan: plan.id, job: plan.job, phase: plan.phase });
        }
        this.db.prepare("UPDATE plans SET state = 'open', target = ? WHERE id = ?").run(plan.target, plan.id);
      })
      .immediate();
    return Promise.resolve();
  }

  discardPlan(planId: number): Promise<void> {
    this.db
      .transaction(() => {
        this.db.prepare("DELETE FROM items WHERE plan_id = ?").run(planId);
        this.db.prepare("DELETE FROM plans WHERE id = ?").run(planId);
      })
      .immediate();
    return Promise.resolve();
  }

  /** The checkpoint rule, in one transaction: move only when nothing of the plan is unfinished. */
  // async so that LOCK_LOST rejects the returned promise instead of throwing at the call
  // eslint-disable-next-line @typescript-eslint/require-await -- async by contract, for networked ledgers
  async closePlan(plan: PlanRecord, fence?: number): Promise<boolean> {
    const closed = this.db
      .transaction(() => {
        const open = this.db
          .prepare<[number], number>(
            "SELECT COUNT(*) FROM items WHERE plan_id = ? AND status NOT IN ('COMPLETED', 'SKIPPED')",
          )
          .pluck()
          .get(plan.id)!;
        if (open > 0) return false;
        if (fence !== undefined && !fenceValid(this.db, plan.job, fence)) {
          throw new SyncError(
            `${plan.job}: the run lost its lock to another runner; the checkpoint was not moved`,
            { code: "LOCK_LOST", errorClass: "transient" },
          );
        }
        if (plan.target !== null) {
          this.db
            .prepare(
              `INSERT INTO checkpoints (job, phase, scope, value, updated_at) VALUES (?, ?, ?, ?, ${NOW})
               ON CONFLICT (job, phase, scope) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
            )
            .run(plan.job, plan.phase, plan.scope, plan.target);
        }
        this.db.prepare(`UPDATE plans SET state = 'closed', closed_at = ${NOW} WHERE id = ?`).run(plan.id);
        // keep the newest closed plan's items for `status`; older closed plans have nothing left to tell
        const older = this.db
          .prepare<[string, string, string, number], number>(
            "SELECT id FROM plans WHERE job = ? AND phase = ? AND scope = ? AND state = 'closed' AND id < ?",
          )
          .pluck()
          .all(plan.job, plan.phase, plan.scope, plan.id);
        for (const id of older) {
          this.db.prepare("DELETE FROM items WHERE plan_id = ?").run(id);
          this.db.prepare("DELETE FROM plans WHERE id = ?").run(id);
        }
        return true;
      })
      .immediate();
    return closed;
  }

  claim(
    planId: number,
    owner: string,
    leaseMs: number,
    limit: number,
    settle: readonly Settlement[] = [],
  ): Promise<ClaimedItem[]> {
    return Promise.resolve(this.items.claim(planId, owner, leaseMs, limit, settle));
  }
  heartbeat(planId: number, owner: string, leaseMs: number): Promise<void> {
    this.items.heartbeat(planId, owner, leaseMs);
    return Promise.resolve();
  }
  settle(settlements: readonly Settlement[]): Promise<void> {
    this.items.settle(settlements);
    return Promise.resolve();
  }
  release(planId: number, owner: string): Promise<number> {
    return Promise.resolve(this.items.release(planId, owner));
  }
  requeueExpired(planId?: number): Promise<number> {
    return Promise.resolve(this.items.requeueExpired(planId));
  }
  leaseOwners(planId: number): Promise<string[]> {
    return Promise.resolve(this.items.leaseOwners(planId));
  }
  leaseHolders(planId: number): Promise<LeaseHolder[]> {
    return Promise.resolve(this.items.leaseHolders(planId));
  }
  expiredLeases(): Promise<LeaseCount[]> {
    return Promise.resolve(this.items.expiredLeases());
  }
  requeue(filter: ItemFilter): Promise<number> {
    return Promise.resolve(this.items.requeue(filter));
  }
  count(planId: number): Promise<StatusCounts> {
    return Promise.resolve(this.items.count(planId));
  }
  countReasons(planId: number, status: ItemStatus): Promise<Record<string, number>> {
    return Promise.resolve(this.items.countReasons(planId, status));
  }
  countByJob(status: ItemStatus): Promise<Record<string, number>> {
    return Promise.resolve(this.items.countByJob(status));
  }
  nextAttemptIn(planId: number): Promise<number | undefined> {
    return Promise.resolve(this.items.nextAttemptIn(planId));
  }
  hastenDeferred(planId: number): Promise<number> {
    return Promise.resolve(this.items.hastenDeferred(planId));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async by contract, for networked ledgers
  async *listItems(filter: ItemFilter): AsyncIterable<ItemRow> {
    // pages by id, so that no SQLite cursor stays open across an await and memory stays flat
    const page = 500;
    for (let afterId = filter.afterId ?? 0; ;) {
      const rows = this.items.list(filter, afterId, page);
      yield* rows;
      if (rows.length < page) return;
      afterId = rows[rows.length - 1]!.id;
    }
  }

  checkpoint(ref: PhaseRef): Promise<Checkpoint | undefined> {
    const row = this.db
      .prepare<[string, string, string], { value: string; updated_at: number }>(
        "SELECT value, updated_at FROM checkpoints WHERE job = ? AND phase = ? AND scope = ?",
      )
      .get(ref.job, ref.phase, ref.scope);
    return Promise.resolve(row && { value: row.value, updatedAt: row.updated_at });
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async by contract, for networked ledgers
  async *fingerprintKeys(job: string, phase: string): AsyncIterable<string> {
    const page = this.db
      .prepare<[string, string, string], string>(
        "SELECT key FROM fingerprints WHERE job = ? AND phase = ? AND key > ? ORDER BY key LIMIT 500",
      )
      .pluck();
    for (let after = ""; ;) {
      const keys = page.all(job, phase, after);
      yield* keys;
      if (keys.length < 500) return;
      after = keys[keys.length - 1]!;
    }
  }

  forgetJob(job: string): Promise<void> {
    this.db
      .transaction(() => {
        for (const table of ["items", "plans", "fingerprints", "checkpoints", "debts"])
          this.db.prepare(`DELETE FROM ${table} WHERE job = ?`).run(job);
        this.docs.forgetJob(job);
      })
      .immediate();
    return Promise.resolve();
  }
}
