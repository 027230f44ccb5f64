import type Database from "better-sqlite3";
import type { EventRecord, RunRecord } from "../types.js";

/** Runs, the event log and small metadata values. */
export class RunStore {
  private readonly insertEvent;

  constructor(private readonly db: Database.Database) {
    this.insertEvent = db.prepare<
      [number, string | null, string | null, string, string, string, string | null]
    >("INSERT INTO events (ts, run_id, job, level, type, message, data) VALUES (?, ?, ?, ?, ?, ?, ?)");
  }

  start(run: Omit<RunRecord, "finishedAt" | "status" | "result">): void {
    this.db
      .prepare("INSERT INTO runs (id, job, trigger, owner, started_at) VALUES (?, ?, ?, ?, ?)")
      .run(run.id, run.job, run.trigger, run.owner, run.startedAt);
  }

  finish(id: string, status: string, result: unknown, finishedAt: number): void {
    this.db
      .prepare("UPDATE runs SET status = ?, result = ?, finished_at = ? WHERE id = ?")
      .run(status, JSON.stringify(result), finishedAt, id);
  }

  list(job: string | undefined, limit: number): RunRecord[] {
    return this.db
      .prepare<[{ job: string | null; limit: number }], Record<string, unknown>>(
        "SELECT * FROM runs WHERE (@job IS NULL OR job = @job) ORDER BY started_at DESC, rowid DESC LIMIT @limit",
      )
      .all({ job: job ?? null, limit })
      .map((r) => ({
        id: r.id as string,
        job: r.job as string,
        trigger: r.trigger as string,
        owner: r.owner as string,
        startedAt: r.started_at as number,
        finishedAt: r.finished_at as number | null,
        status: r.status as string | null,
        result: typeof r.result === "string" ? (JSON.parse(r.result) as unknown) : null,
      }));
  }

  appendEvents(events: readonly EventRecord[]): void {
    this.db.transaction(() => {
      for (const e of events) {
        const data = e.data === undefined ? null : JSON.stringify(e.data);
        this.insertEvent.run(e.ts, e.runId, e.job, e.level, e.type, e.message, data);
      }
    })();
  }

  listEvents(filter: { job?: string; since?: number; limit: number }): EventRecord[] {
    return this.db
      .prepare<[{ job: string | null; since: number; limit: number }], Record<string, unknown>>(
        `SELECT * FROM (SELECT * FROM events WHERE (@job IS NULL OR job = @job) AND ts >= @since ORDER BY id DESC LIMIT @limit)
         ORDER BY id`,
      )
      .all({ job: filter.job ?? null, since: filter.since ?? 0, limit: filter.limit })
      .map((r) => ({
        id: r.id as number,
        ts: r.ts as number,
        runId: r.run_id as string | null,
        job: r.job as string | null,
        level: r.level as EventRecord["level"],
        type: r.type as string,
        message: r.message as string,
        data: typeof r.data === "string" ? (JSON.parse(r.data) as unknown) : undefined,
      }));
  }

  getMeta(key: string): string | undefined {
    return this.db.prepare<[string], { value: string }>("SELECT value FROM metadata WHERE key = ?").get(key)
      ?.value;
  }

  setMeta(key: string, value: string): void {
    this.db
      .prepare(
        "INSERT INTO metadata (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      )
      .run(key, value);
  }
}
