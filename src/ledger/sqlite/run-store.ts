import type Database from "better-sqlite3";
import type { RunStore } from "../run-store.js";
import type { RunRecord } from "../types.js";
import { NOW } from "./clock.js";

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
    return Promise.resolve(
      rows.map((r) => ({
        id: r.id as string,
        job: r.job as string,
        trigger: r.trigger as string,
        owner: r.owner as string,
        startedAt: r.started_at as number,
        finishedAt: r.finished_at as number | null,
        status: r.status as string | null,
        result: typeof r.result === "string" ? (JSON.parse(r.result) as unknown) : null,
      })),
    );
  }
}
