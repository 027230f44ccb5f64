import type Database from "better-sqlite3";
import type { EventStore } from "../event-store.js";
import { eventRecord, jsonText } from "../rows.js";
import type { EventRecord } from "../types.js";

export class SqliteEventStore implements EventStore {
  private readonly insert;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare<[number, string | null, string | null, string, string, string, string | null]>(
      "INSERT INTO events (ts, run_id, job, level, type, message, data) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
  }

  append(events: readonly EventRecord[]): Promise<void> {
    this.db.transaction(() => {
      for (const e of events) {
        const data = e.data === undefined ? null : JSON.stringify(e.data);
        this.insert.run(e.ts, e.runId, e.job, e.level, e.type, e.message, data);
      }
    })();
    return Promise.resolve();
  }

  list(filter: { job?: string; since?: number; limit: number }): Promise<EventRecord[]> {
    const rows = this.db
      .prepare<[{ job: string | null; since: number; limit: number }], Record<string, unknown>>(
        `SELECT * FROM (SELECT * FROM events WHERE (@job IS NULL OR job = @job) AND ts >= @since ORDER BY id DESC LIMIT @limit)
         ORDER BY id`,
      )
      .all({ job: filter.job ?? null, since: filter.since ?? 0, limit: filter.limit });
    return Promise.resolve(rows.map((r) => eventRecord(r, jsonText)));
  }
}
