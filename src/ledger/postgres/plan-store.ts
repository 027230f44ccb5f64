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
import type { PgDocumentWriter } from "./document-writer.js";
import { ItemQueries } from "./item-queries.js";
import { ItemTransitions } from "./item-transitions.js";
import { NOW, type PgDatabase } from "./pg-database.js";
import { toPlan, type PlanRow } from "../rows.js";

/** Tables a job's state lives in (--nuke), children first. */
const JOB_TABLES = ["items", "plans", "fingerprints", "checkpoints", "debts"] as const;

/** Plans, their items and the checkpoints they move, shared by every worker on one PostgreSQL schema. */
export class PgPlanStore implements PlanStore {
  private readonly items: ItemTransitions;
  private readonly queries: ItemQueries;

  constructor(
    private readonly db: PgDatabase,
    private readonly documents: PgDocumentWriter,
  ) {
    this.items = new ItemTransitions(db, documents);
    this.queries = new ItemQueries(db);
  }

  async findPlan(ref: PhaseRef, state: "planning" | "open"): Promise<PlanRecord | undefined> {
    const rows = await this.db.query<PlanRow>(
      "SELECT * FROM plans WHERE job = $1 AND phase = $2 AND scope = $3 AND state = $4 ORDER BY id DESC LIMIT 1",
      [ref.job, ref.phase, ref.scope, state],
    );
    return rows[0] && toPlan(rows[0]);
  }

  async latestPlan(ref: PhaseRef): Promise<PlanRecord | undefined> {
    const rows = await this.db.query<PlanRow>(
      "SELECT * FROM plans WHERE job = $1 AND phase = $2 AND scope = $3 ORDER BY id DESC LIMIT 1",
      [ref.job, ref.phase, ref.scope],
    );
    return rows[0] && toPlan(rows[0]);
  }

  async createPlan(
    ref: PhaseRef,
    from: string | null,
    target: string | null,
    mode: PlanMode,
    forced = false,
  ): Promise<PlanRecord> {
    const rows = await this.db.query<PlanRow>(
      `INSERT INTO plans (job, phase, scope, from_checkpoint, target, mode, forced, state, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'planning', ${NOW}) RETURNING *`,
      [ref.job, ref.phase, ref.scope, from, target, mode, forced],
    );
    return toPlan(rows[0]!);
  }

  recordItems(plan: PlanRecord, items: readonly PlannedItem[]): Promise<void> {
    return this.items.record(plan.id, plan.job, plan.phase, items);
  }

  /** A snapshot plan of the main scope also deletes every fingerprinted key it did not list, in key order. */
  async sealPlan(plan: PlanRecord): Promise<void> {
    await this.db.tx(async (c) => {
      if (plan.mode === "snapshot" && plan.scope === "") {
        await c.query(
          `INSERT INTO items (plan_id, job, phase, key, version, op, updated_at)
           SELECT $1, f.job, f.phase, f.key, NULL, 'delete', t FROM fingerprints f, (SELECT ${NOW} AS t) now
           WHERE f.job = $2 AND f.phase = $3
             AND NOT EXISTS (SELECT 1 FROM items i WHERE i.plan_id = $1 AND i.key = f.key AND i.op = 'upsert')
           ORDER BY f.key
           ON CONFLICT (plan_id, key, op) DO NOTHING`,
          [plan.id, plan.job, plan.phase],
        );
      }
      await c.query("UPDATE plans SET state = 'open', target = $1 WHERE id = $2", [plan.target, plan.id]);
    });
  }

  async discardPlan(planId: number): Promise<void> {
    await this.db.tx(async (c) => {
      await c.query("DELETE FROM items WHERE plan_id = $1", [planId]);
      await c.query("DELETE FROM plans WHERE id = $1", [planId]);
    });
  }

  /**
   * The checkpoint rule, in one transaction under the plan's row lock: closes an open plan only when
   * nothing of it is unfinished, so whichever worker settles last closes it, once (a second call is false).
   */
  closePlan(plan: PlanRecord, fence?: number): Promise<boolean> {
    return this.db.tx(async (c) => {
      const locked = await c.query<{ state: string }>("SELECT state FROM plans WHERE id = $1 FOR UPDATE", [
        plan.id,
      ]);
      if (locked.rows[0]?.state !== "open") return false;
      const open = await c.query(
        "SELECT 1 FROM items WHERE plan_id = $1 AND status NOT IN ('COMPLETED', 'SKIPPED') LIMIT 1",
        [plan.id],
      );
      if (open.rows.length > 0) return false;
      if (fence !== undefined) {
        // FOR SHARE: a takeover's new token waits for this commit, or this check waits for the takeover's
        const token = await c.query<{ fence: number }>(
          "SELECT fence FROM lock_fences WHERE job = $1 FOR SHARE",
          [plan.job],
        );
        if (token.rows[0]?.fence !== fence)
          throw new SyncError(
            `${plan.job}: the run lost its lock to another runner; the checkpoint was not moved`,
            { code: "LOCK_LOST", errorClass: "transient" },
          );
      }
      if (plan.target !== null) {
        await c.query(
          `INSERT INTO checkpoints (job, phase, scope, value, updated_at) VALUES ($1, $2, $3, $4, ${NOW})
           ON CONFLICT (job, phase, scope) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
          [plan.job, plan.phase, plan.scope, plan.target],
        );
      }
      await c.query(`UPDATE plans SET state = 'closed', closed_at = ${NOW} WHERE id = $1`, [plan.id]);
      // keep the newest closed plan's items for `status`; older closed plans have nothing left to tell
      const older = [plan.job, plan.phase, plan.scope, plan.id];
      const olderPlans = `SELECT id FROM plans
        WHERE job = $1 AND phase = $2 AND scope = $3 AND state = 'closed' AND id < $4`;
      await c.query(`DELETE FROM items WHERE plan_id IN (${olderPlans})`, older);
      await c.query(`DELETE FROM plans WHERE id IN (${olderPlans})`, older);
      return true;
    });
  }

  claim(
    planId: number,
    owner: string,
    leaseMs: number,
    limit: number,
    settle: readonly Settlement[] = [],
  ): Promise<ClaimedItem[]> {
    return this.items.claim(planId, owner, leaseMs, limit, settle);
  }
  heartbeat(planId: number, owner: string, leaseMs: number): Promise<void> {
    return this.items.heartbeat(planId, owner, leaseMs);
  }
  settle(settlements: readonly Settlement[]): Promise<void> {
    return this.items.settle(settlements);
  }
  release(planId: number, owner: string): Promise<number> {
    return this.items.release(planId, owner);
  }
  requeueExpired(planId?: number): Promise<number> {
    return this.items.requeueExpired(planId);
  }
  leaseOwners(planId: number): Promise<string[]> {
    return this.queries.leaseOwners(planId);
  }
  leaseHolders(planId: number): Promise<LeaseHolder[]> {
    return this.queries.leaseHolders(planId);
  }
  expiredLeases(): Promise<LeaseCount[]> {
    return this.queries.expiredLeases();
  }
  requeue(filter: ItemFilter): Promise<number> {
    return this.items.requeue(filter);
  }
  count(planId: number): Promise<StatusCounts> {
    return this.queries.count(planId);
  }
  countReasons(planId: number, status: ItemStatus): Promise<Record<string, number>> {
    return this.queries.countReasons(planId, status);
  }
  countByJob(status: ItemStatus): Promise<Record<string, number>> {
    return this.queries.countByJob(status);
  }
  nextAttemptIn(planId: number): Promise<number | undefined> {
    return this.queries.nextAttemptIn(planId);
  }
  hastenDeferred(planId: number): Promise<number> {
    return this.items.hastenDeferred(planId);
  }
  listItems(filter: ItemFilter): AsyncIterable<ItemRow> {
    return this.queries.list(filter);
  }

  async checkpoint(ref: PhaseRef): Promise<Checkpoint | undefined> {
    const rows = await this.db.query<{ value: string; updated_at: number }>(
      "SELECT value, updated_at FROM checkpoints WHERE job = $1 AND phase = $2 AND scope = $3",
      [ref.job, ref.phase, ref.scope],
    );
    return rows[0] && { value: rows[0].value, updatedAt: rows[0].updated_at };
  }

  async *fingerprintKeys(job: string, phase: string): AsyncIterable<string> {
    // the first page has no lower bound, so no key (not even "") is passed over, and the others seek by key
    const rows = this.db.pages<{ key: string }, string>(
      (after) =>
        after === undefined
          ? this.db.query(
              "SELECT key FROM fingerprints WHERE job = $1 AND phase = $2 ORDER BY key LIMIT 500",
              [job, phase],
            )
          : this.db.query(
              "SELECT key FROM fingerprints WHERE job = $1 AND phase = $2 AND key > $3 ORDER BY key LIMIT 500",
              [job, phase, after],
            ),
      (r) => r.key,
    );
    for await (const r of rows) yield r.key;
  }

  async forgetJob(job: string): Promise<void> {
    await this.db.tx(async (c) => {
      for (const table of JOB_TABLES) await c.query(`DELETE FROM ${table} WHERE job = $1`, [job]);
      await this.documents.forget(c, job);
    });
  }
}
