import type Database from "better-sqlite3";
import { jsonText, phaseCounts, runRecord } from "../rows.js";
import type { RunStore } from "../run-store.js";
import type { InterruptedRunFacts, ItemStatus, RunRecord } from "../types.js";
import { dbNow, NOW } from "./clock.js";

const toRecord = (r: Record<string, unknown>): RunRecord => runRecord(r, jsonText);

export class SqliteRunStore implements RunStore {
  constructor(private readonly db: Database.Database) {}

  start(run: { id: string; job: string; trigger: string; owner: string }): Promise<void> {
    this.db
      .prepare(`INSERT INTO runs (id, job, trigger, owner, started_at) VALUES (?, ?, ?, ?, ${NOW})`)
      .run(run.id, run.job, run.trigger, run.owner);
    return Promise.resolve();
  }

  finish(id: string, status: string, result: unknown): Promise<void> {
    this.db
      .prepare(`UPDATE runs SET status = ?, result = ?, finished_at = ${NOW} WHERE id = ?`)
      .run(status, JSON.stringify(result), id);
    return Promise.resolve();
  }

  list(job: string | undefined, limit: number): Promise<RunRecord[]> {
    const rows = this.db
      .prepare<[{ job: string | null; limit: number }], Record<string, unknown>>(
        "SELECT * FROM runs WHERE (@job IS NULL OR job = @job) ORDER BY started_at DESC, rowid DESC LIMIT @limit",
      )
      .all({ job: job ?? null, limit });
    return Promise.resolve(rows.map(toRecord));
  }

  unfinished(job?: string): Promise<RunRecord[]> {
    const rows = this.db
      .prepare<[{ job: string | null }], Record<string, unknown>>(
        "SELECT * FROM runs WHERE finished_at IS NULL AND (@job IS NULL OR job = @job) ORDER BY started_at, rowid",
      )
      .all({ job: job ?? null });
    return Promise.resolve(rows.map(toRecord));
  }

  interrupt(id: string, result: (facts: InterruptedRunFacts) => unknown): Promise<RunRecord | undefined> {
    const close = this.db.transaction((): RunRecord | undefined => {
      const row = this.db
        .prepare<[string], Record<string, unknown>>("SELECT * FROM runs WHERE id = ? AND finished_at IS NULL")
        .get(id);
      if (!row) return undefined;
      const finishedAt = dbNow(this.db);
      const run = { ...toRecord(row), finishedAt, status: "interrupted" };
      const facts: InterruptedRunFacts = {
        run,
        phases: this.openPlanItems(run.job, run.startedAt, finishedAt),
        lastActivityAt: this.lastActivity(run.job, run.startedAt, finishedAt),
      };
      const stored = result(facts);
      this.db
        .prepare("UPDATE runs SET status = 'interrupted', result = ?, finished_at = ? WHERE id = ?")
        .run(JSON.stringify(stored), finishedAt, id);
      return { ...run, result: stored };
    });
    return Promise.resolve(close.immediate());
  }

  /** The newest item transition, between `from` and `to`, of the job's plans open then. */
  private lastActivity(job: string, from: number, to: number): number | null {
    return this.db
      .prepare<[{ job: string; from: number; to: number }], number | null>(
        `SELECT MAX(i.updated_at) FROM plans p JOIN items i ON i.plan_id = p.id
         WHERE p.job = @job AND p.created_at <= @to AND (p.closed_at IS NULL OR p.closed_at >= @from)
           AND i.updated_at BETWEEN @from AND @to`,
      )
      .pluck()
      .get({ job, from, to })!;
  }

  /** Items by phase and status of the job's plans open at some time between `from` and `to`. */
  private openPlanItems(job: string, from: number, to: number): InterruptedRunFacts["phases"] {
    const rows = this.db
      .prepare<[string, number, number], { phase: string; status: ItemStatus; n: number; raw: number }>(
        `SELECT i.phase, i.status, COUNT(*) AS n,
                SUM(CASE WHEN i.status = 'COMPLETED' AND i.reason = 'raw' THEN 1 ELSE 0 END) AS raw
         FROM plans p JOIN items i ON i.plan_id = p.id
         WHERE p.job = ? AND p.created_at <= ? AND (p.closed_at IS NULL OR p.closed_at >= ?)
         GROUP BY i.phase, i.status ORDER BY MIN(p.id), i.phase`,
      )
      .all(job, to, from);
    return phaseCounts(rows);
  }
}
