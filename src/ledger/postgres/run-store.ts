import type pg from "pg";
import { jsonParsed, phaseCounts, runRecord } from "../rows.js";
import type { RunStore } from "../run-store.js";
import type { InterruptedRunFacts, ItemStatus, RunRecord } from "../types.js";
import { toJsonb } from "./jsonb.js";
import { NOW, type PgDatabase } from "./pg-database.js";

const toRecord = (r: Record<string, unknown>): RunRecord => runRecord(r, jsonParsed);

const COLUMNS = "id, job, trigger, owner, started_at, finished_at, status, result";

/**
 * Runs. PostgreSQL has no rowid: runs started in the same millisecond are ordered by id (SQLite orders
 * them by insertion), which only matters for two starts within one ms.
 */
export class PgRunStore implements RunStore {
  constructor(private readonly db: PgDatabase) {}

  async start(run: { id: string; job: string; trigger: string; owner: string }): Promise<void> {
    await this.db.query(
      `INSERT INTO runs (id, job, trigger, owner, started_at) VALUES ($1, $2, $3, $4, ${NOW})`,
      [run.id, run.job, run.trigger, run.owner],
    );
  }

  async finish(id: string, status: string, result: unknown): Promise<void> {
    await this.db.query(
      `UPDATE runs SET status = $1, result = $2::jsonb, finished_at = ${NOW} WHERE id = $3`,
      [status, toJsonb(result), id],
    );
  }

  async list(job: string | undefined, limit: number): Promise<RunRecord[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM runs WHERE ($1::text IS NULL OR job = $1)
       ORDER BY started_at DESC, id COLLATE "C" DESC LIMIT $2`,
      [job ?? null, limit],
    );
    return rows.map(toRecord);
  }

  async unfinished(job?: string): Promise<RunRecord[]> {
    const rows = await this.db.query(
      `SELECT ${COLUMNS} FROM runs WHERE finished_at IS NULL AND ($1::text IS NULL OR job = $1)
       ORDER BY started_at, id COLLATE "C"`,
      [job ?? null],
    );
    return rows.map(toRecord);
  }

  /**
   * One transaction holding the run's row: a second closer (another process's doctor) waits for it, then
   * finds the run finished and changes nothing; a concurrent finish() lands after it, as in SQLite.
   */
  interrupt(id: string, result: (facts: InterruptedRunFacts) => unknown): Promise<RunRecord | undefined> {
    return this.db.tx(async (c): Promise<RunRecord | undefined> => {
      const { rows } = await c.query<Record<string, unknown>>(
        `SELECT ${COLUMNS} FROM runs WHERE id = $1 AND finished_at IS NULL FOR UPDATE`,
        [id],
      );
      const row = rows[0];
      if (!row) return undefined;
      // the clock is read after the row is ours (a waiting closer's reading before it waited is stale)
      const { finishedAt, phases, lastActivityAt } = await runFacts(
        c,
        row.job as string,
        row.started_at as number,
      );
      const run = { ...toRecord(row), finishedAt, status: "interrupted" };
      const facts: InterruptedRunFacts = { run, phases, lastActivityAt };
      const stored = result(facts);
      await c.query(
        "UPDATE runs SET status = 'interrupted', result = $1::jsonb, finished_at = $2 WHERE id = $3",
        [toJsonb(stored), finishedAt, id],
      );
      return { ...run, result: stored };
    });
  }
}

/**
 * The clock, and the items by phase and status of the job's plans open at some time between the run's
 * start and now, with the newest item transition in that time: one statement, so one snapshot.
 */
async function runFacts(
  c: pg.PoolClient,
  job: string,
  from: number,
): Promise<{ finishedAt: number; phases: InterruptedRunFacts["phases"]; lastActivityAt: number | null }> {
  const { rows } = await c.query<{
    now: number;
    phase: string | null;
    status: ItemStatus | null;
    n: number;
    raw: number;
    last: number | null;
  }>(
    `WITH t AS (SELECT ${NOW} AS now)
     SELECT t.now, g.phase, g.status, g.n, g.raw, g.last FROM t LEFT JOIN LATERAL (
       SELECT i.phase, i.status, COUNT(*) AS n,
              SUM(CASE WHEN i.status = 'COMPLETED' AND i.reason = 'raw' THEN 1 ELSE 0 END) AS raw,
              MAX(i.updated_at) FILTER (WHERE i.updated_at BETWEEN $2 AND t.now) AS last,
              MIN(p.id) AS first_plan
       FROM plans p JOIN items i ON i.plan_id = p.id
       WHERE p.job = $1 AND p.created_at <= t.now AND (p.closed_at IS NULL OR p.closed_at >= $2)
       GROUP BY i.phase, i.status
     ) g ON true
     ORDER BY g.first_plan, g.phase COLLATE "C"`,
    [job, from],
  );
  const items = rows.filter(
    (r): r is typeof r & { phase: string; status: ItemStatus } => r.phase !== null && r.status !== null,
  ); // no items: the clock's row alone
  const last = items.map((r) => r.last).filter((t): t is number => t !== null);
  const lastActivityAt = last.length > 0 ? Math.max(...last) : null;
  return { finishedAt: rows[0]!.now, phases: phaseCounts(items), lastActivityAt };
}
