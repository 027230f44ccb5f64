import type { ErrorClass } from "../errors.js";
import type { EventRecord, ItemRow, ItemStatus, RunRecord } from "./types.js";

/**
 * Rows as both implementations' tables name their columns (snake_case), into the records the role stores
 * return. `json` decodes a JSON column: SQLite keeps text, PostgreSQL's JSONB comes back parsed.
 */
type Row = Record<string, unknown>;
type JsonColumn = (value: unknown) => unknown;

export const itemRow = (r: Row): ItemRow => ({
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
});

/** A run never finished has no result (null). */
export const runRecord = (r: Row, json: JsonColumn): RunRecord => ({
  id: r.id as string,
  job: r.job as string,
  trigger: r.trigger as string,
  owner: r.owner as string,
  startedAt: r.started_at as number,
  finishedAt: r.finished_at as number | null,
  status: r.status as string | null,
  result: r.result === null || r.result === undefined ? null : json(r.result),
});

export const eventRecord = (r: Row, json: JsonColumn): EventRecord => ({
  id: r.id as number,
  ts: r.ts as number,
  runId: r.run_id as string | null,
  job: r.job as string | null,
  level: r.level as EventRecord["level"],
  type: r.type as string,
  message: r.message as string,
  data: r.data === null || r.data === undefined ? undefined : json(r.data),
});

/** SQLite's JSON columns are text. */
export const jsonText: JsonColumn = (v) => (typeof v === "string" ? (JSON.parse(v) as unknown) : v);
/** PostgreSQL's JSONB is parsed by the driver. */
export const jsonParsed: JsonColumn = (v) => v;
