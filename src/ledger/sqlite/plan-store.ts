import type Database from "better-sqlite3";
import { SyncError } from "../../errors.js";
import type { Checkpoint, PhaseRef, PlanMode, PlanRecord } from "../types.js";

interface PlanRow {
  id: number;
  job: string;
  phase: string;
  scope: string;
  from_checkpoint: string | null;
  target: string | null;
  mode: PlanMode;
  state: PlanRecord["state"];
  created_at: number;
  closed_at: number | null;
}

function toPlan(r: PlanRow): PlanRecord {
  return {
    id: r.id,
    job: r.job,
    phase: r.phase,
    scope: r.scope,
    fromCheckpoint: r.from_checkpoint,
    target: r.target,
    mode: r.mode,
    state: r.state,
    createdAt: r.created_at,
    closedAt: r.closed_at,
  };
}

/** Plans and the checkpoints they move. */
export class PlanStore {
  constructor(private readonly db: Database.Database) {}

  find(ref: PhaseRef, state: "planning" | "open"): PlanRecord | undefined {
    const row = this.db
      .prepare<[string, string, string, string], PlanRow>(
        "SELECT * FROM plans WHERE job = ? AND phase = ? AND scope = ? AND state = ? ORDER BY id DESC LIMIT 1",
      )
      .get(ref.job, ref.phase, ref.scope, state);
    return row && toPlan(row);
  }

  latest(ref: PhaseRef): PlanRecord | undefined {
    const row = this.db
      .prepare<[string, string, string], PlanRow>(
        "SELECT * FROM plans WHERE job = ? AND phase = ? AND scope = ? ORDER BY id DESC LIMIT 1",
      )
      .get(ref.job, ref.phase, ref.scope);
    return row && toPlan(row);
  }

  create(ref: PhaseRef, from: string | null, target: string | null, mode: PlanMode, now: number): PlanRecord {
    const row = this.db
      .prepare<[string, string, string, string | null, string | null, string, number], PlanRow>(
        `INSERT INTO plans (job, phase, scope, from_checkpoint, target, mode, state, created_at)
         VALUES (?, ?, ?, ?, ?, ?, 'planning', ?) RETURNING *`,
      )
      .get(ref.job, ref.phase, ref.scope, from, target, mode, now)!;
    return toPlan(row);
  }

  seal(plan: PlanRecord, now: number): void {
    this.db
      .transaction(() => {
        if (plan.mode === "snapshot" && plan.scope === "") {
          this.db
            .prepare(
              `INSERT OR IGNORE INTO items (plan_id, job, phase, key, version, op, updated_at)
             SELECT @plan, f.job, f.phase, f.key, NULL, 'delete', @now FROM fingerprints f
             WHERE f.job = @job AND f.phase = @phase
               AND NOT EXISTS (SELECT 1 FROM items i WHERE i.plan_id = @plan AND i.key = f.key AND i.op = 'upsert')`,
            )
            .run({ plan: plan.id, job: plan.job, phase: plan.phase, now });
        }
        this.db.prepare("UPDATE plans SET state = 'open', target = ? WHERE id = ?").run(plan.target, plan.id);
      })
      .immediate();
  }

  discard(planId: number): void {
    this.db
      .transaction(() => {
        this.db.prepare("DELETE FROM items WHERE plan_id = ?").run(planId);
        this.db.prepare("DELETE FROM plans WHERE id = ?").run(planId);
      })
      .immediate();
  }

  /** The checkpoint rule, in one transaction: move only when nothing of the plan is unfinished. */
  close(plan: PlanRecord, now: number, fenceValid?: () => boolean): boolean {
    return this.db
      .transaction(() => {
        const open = this.db
          .prepare<[number], { n: number }>(
            "SELECT COUNT(*) AS n FROM items WHERE plan_id = ? AND status NOT IN ('COMPLETED', 'SKIPPED')",
          )
          .get(plan.id)!.n;
        if (open > 0) return false;
        if (fenceValid && !fenceValid()) {
          throw new SyncError(
            `${plan.job}: the run lost its lock to another runner; the checkpoint was not moved`,
            {
              code: "LOCK_LOST",
              errorClass: "transient",
            },
          );
        }
        if (plan.target !== null) {
          this.db
            .prepare(
              `INSERT INTO checkpoints (job, phase, scope, value, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (job, phase, scope) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
            )
            .run(plan.job, plan.phase, plan.scope, plan.target, now);
        }
        this.db.prepare("UPDATE plans SET state = 'closed', closed_at = ? WHERE id = ?").run(now, plan.id);
        // keep the newest closed plan's items for `status`; older closed plans have nothing left to tell
        const older = this.db
          .prepare<[string, string, string, number], { id: number }>(
            "SELECT id FROM plans WHERE job = ? AND phase = ? AND scope = ? AND state = 'closed' AND id < ?",
          )
          .all(plan.job, plan.phase, plan.scope, plan.id);
        for (const { id } of older) {
          this.db.prepare("DELETE FROM items WHERE plan_id = ?").run(id);
          this.db.prepare("DELETE FROM plans WHERE id = ?").run(id);
        }
        return true;
      })
      .immediate();
  }

  checkpoint(ref: PhaseRef): Checkpoint | undefined {
    const row = this.db
      .prepare<[string, string, string], { value: string; updated_at: number }>(
        "SELECT value, updated_at FROM checkpoints WHERE job = ? AND phase = ? AND scope = ?",
      )
      .get(ref.job, ref.phase, ref.scope);
    return row && { value: row.value, updatedAt: row.updated_at };
  }
}
