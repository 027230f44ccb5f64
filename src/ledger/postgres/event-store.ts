import type { EventStore } from "../event-store.js";
import { eventRecord, jsonParsed } from "../rows.js";
import type { EventRecord } from "../types.js";
import type { PgDatabase } from "./pg-database.js";

export class PgEventStore implements EventStore {
  constructor(private readonly db: PgDatabase) {}

  async append(events: readonly EventRecord[]): Promise<void> {
    if (events.length === 0) return;
    // one statement for the batch: arrays unnested in order
    await this.db.query(
      `INSERT INTO events (ts, run_id, job, level, type, message, data)
       SELECT ts, run_id, job, level, type, message, data
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[])
         WITH ORDINALITY AS e(ts, run_id, job, level, type, message, data, n)
       ORDER BY n`,
      [
        events.map((e) => e.ts),
        events.map((e) => e.runId),
        events.map((e) => e.job),
        events.map((e) => e.level),
        events.map((e) => e.type),
        events.map((e) => e.message),
        events.map((e) => (e.data === undefined ? null : JSON.stringify(e.data))),
      ],
    );
  }

  async list(filter: { job?: string; since?: number; limit: number }): Promise<EventRecord[]> {
    const rows = await this.db.query(
      `SELECT * FROM (SELECT * FROM events WHERE ($1::text IS NULL OR job = $1) AND ts >= $2
         ORDER BY id DESC LIMIT $3) newest ORDER BY id`,
      [filter.job ?? null, filter.since ?? 0, filter.limit],
    );
    return rows.map((r) => eventRecord(r, jsonParsed));
  }
}
