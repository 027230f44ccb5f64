import type { ErrorClass } from "../errors.js";
import type {
  BreakerRecord,
  DebtRecord,
  EventRecord,
  InterruptedRunFacts,
  GateRecord,
  ItemRow,
  ItemStatus,
  JobLock,
  PlanMode,
  PlanRecord,
  RunRecord,
  StatusCounts,
} from "./types.js";
import { ITEM_STATUSES } from "./types.js";

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

/** A boolean column: SQLite keeps 0/1, PostgreSQL a boolean. */
type Flag = number | boolean;
const flag = (v: Flag): boolean => v === true || v === 1;

export interface PlanRow {
  id: number;
  job: string;
  phase: string;
  scope: string;
  from_checkpoint: string | null;
  target: string | null;
  mode: PlanMode;
  forced: Flag;
  state: PlanRecord["state"];
  created_at: number;
  closed_at: number | null;
}

export const toPlan = (r: PlanRow): PlanRecord => ({
  id: r.id,
  job: r.job,
  phase: r.phase,
  scope: r.scope,
  fromCheckpoint: r.from_checkpoint,
  target: r.target,
  mode: r.mode,
  forced: flag(r.forced),
  state: r.state,
  createdAt: r.created_at,
  closedAt: r.closed_at,
});

export interface BreakerRow {
  provider: string;
  state: BreakerRecord["state"];
  failures: number;
  successes: number;
  opened_at: number | null;
  open_until: number | null;
  reopen_count: number;
  isolated: Flag;
  reason: string | null;
  updated_at: number;
}

export const toBreaker = (r: BreakerRow): BreakerRecord => ({
  provider: r.provider,
  state: r.state,
  failures: r.failures,
  successes: r.successes,
  openedAt: r.opened_at,
  openUntil: r.open_until,
  reopenCount: r.reopen_count,
  isolated: flag(r.isolated),
  reason: r.reason,
  updatedAt: r.updated_at,
});

export interface GateRow {
  provider: string;
  paused_until: number;
  reason: string | null;
  tokens: number | null;
  refilled_at: number | null;
  updated_at: number;
}

export const toGate = (r: GateRow): GateRecord => ({
  provider: r.provider,
  pausedUntil: r.paused_until,
  reason: r.reason,
  tokens: r.tokens,
  refilledAt: r.refilled_at,
  updatedAt: r.updated_at,
});

export interface LockRow {
  job: string;
  owner: string;
  pid: number;
  host: string;
  started_at: number;
  heartbeat_at: number;
  expires_at: number;
  fence: number;
  expired: Flag;
}

export const toLock = (r: LockRow): JobLock => ({
  job: r.job,
  owner: r.owner,
  pid: r.pid,
  host: r.host,
  startedAt: r.started_at,
  heartbeatAt: r.heartbeat_at,
  expiresAt: r.expires_at,
  fence: r.fence,
  expired: flag(r.expired),
});

export const debtRecord = (r: Row): DebtRecord => ({
  id: r.id as number,
  job: r.job as string,
  phase: r.phase as string,
  key: r.key as string,
  version: r.version as string,
  step: r.step as number,
  provider: r.provider as string | null,
  reason: r.reason as string | null,
  attempts: r.attempts as number,
  createdAt: r.created_at as number,
});

/** Item counts per (phase, status), in the order given, folded into one entry per phase (an interrupted run's facts). */
export function phaseCounts(
  rows: readonly { phase: string; status: ItemStatus; n: number; raw: number }[],
): InterruptedRunFacts["phases"] {
  const phases = new Map<string, { phase: string; counts: StatusCounts; raw: number }>();
  for (const r of rows) {
    let p = phases.get(r.phase);
    if (!p) {
      p = {
        phase: r.phase,
        counts: Object.fromEntries(ITEM_STATUSES.map((s) => [s, 0])) as StatusCounts,
        raw: 0,
      };
      phases.set(r.phase, p);
    }
    p.counts[r.status] += r.n;
    p.raw += r.raw;
  }
  return [...phases.values()];
}
