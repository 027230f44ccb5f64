import type { ErrorClass } from "../errors.js";
import type { KnowledgeWrite } from "./knowledge.js";

export type ItemStatus = "PENDING" | "PROCESSING" | "COMPLETED" | "SKIPPED" | "FAILED" | "DEAD";
export const ITEM_STATUSES: readonly ItemStatus[] = [
  "PENDING",
  "PROCESSING",
  "COMPLETED",
  "SKIPPED",
  "FAILED",
  "DEAD",
];
export type StatusCounts = Record<ItemStatus, number>;

/** Where a checkpoint lives: a job's phase, within a scope ("" is the job's main scope). */
export interface PhaseRef {
  job: string;
  phase: string;
  scope: string;
}

/** A source listing is either every item at the target, or only what changed since the checkpoint. */
export type PlanMode = "snapshot" | "delta";

export interface PlanRecord extends PhaseRef {
  id: number;
  fromCheckpoint: string | null;
  target: string | null;
  mode: PlanMode;
  /** Made by a forced run (`--force`): whoever processes its items reprocesses unchanged ones too. */
  forced: boolean;
  state: "planning" | "open" | "closed";
  createdAt: number;
  closedAt: number | null;
}

/** One item of a plan as a source lists it. */
export interface PlannedItem {
  key: string;
  /** Blob sha, updated_at, content hash; null for a deletion. */
  version: string | null;
  op: "upsert" | "delete";
  meta?: Record<string, unknown>;
}

export interface ClaimedItem {
  id: number;
  key: string;
  version: string | null;
  op: "upsert" | "delete";
  fence: number;
  attempts: number;
  /** The last completed version of this key, for the unchanged check. */
  prevVersion: string | null;
  meta: Record<string, unknown> | undefined;
}

export interface DocumentUpsert {
  kind: "upsert";
  job: string;
  collection: string;
  key: string;
  version: string;
  content: string;
  metadata?: Record<string, unknown>;
  /** An embedding stored beside the document. */
  vector?: { model: string; values: readonly number[] };
  /** The document already cut (along its syntax, by lines); without it the store cuts it by size. */
  chunks?: DocumentChunk[];
}
/** A piece of a file: lines startLine..endLine (1-based, inclusive), the symbols it defines, its language. */
export interface DocumentChunk {
  content: string;
  startLine: number;
  endLine: number;
  symbol?: string;
  language?: string;
}
export interface DocumentDelete {
  kind: "delete";
  job: string;
  collection: string;
  key: string;
}
/**
 * A write to the embedded document store, committed in the same transaction as the item's settlement; a
 * knowledge write (an episode's extraction) goes to the knowledge store beside it.
 */
export type DocumentWrite = DocumentUpsert | DocumentDelete | VectorWrite | KnowledgeWrite;

/** Only the embedding of a stored document (paying a debt). */
export interface VectorWrite {
  kind: "vector";
  job: string;
  collection: string;
  key: string;
  version: string;
  vector: { model: string; values: readonly number[] };
}

/** The outcome of one claimed item, applied in a batch (group commit). */
export interface Settlement {
  id: number;
  fence: number;
  /** The item's identity, so the fingerprint is written without reading the row back. */
  job: string;
  phase: string;
  key: string;
  /** The phase has enrich steps: a full completion clears the key's old debts. */
  enriched?: boolean;
  /** PENDING with retryInMs: deferred (breaker open, rate limit) without consuming an attempt. */
  status: "COMPLETED" | "SKIPPED" | "FAILED" | "DEAD" | "PENDING";
  reason?: string;
  errorClass?: ErrorClass;
  errorMessage?: string;
  /** Failed attempts so far, including this one. */
  attempts?: number;
  /** FAILED or deferred: due again this many ms from now (the ledger's clock). */
  retryInMs?: number;
  /** Set the key's fingerprint to this version, or delete it (null). */
  fingerprint?: string | null;
  writes?: DocumentWrite[];
  /** Enrich steps owed (the item was stored raw); a COMPLETED item without debts clears old ones. */
  debts?: NewDebt[];
}

export interface ItemRow {
  id: number;
  planId: number;
  job: string;
  phase: string;
  key: string;
  version: string | null;
  op: string;
  status: ItemStatus;
  attempts: number;
  reason: string | null;
  errorClass: ErrorClass | null;
  errorMessage: string | null;
  nextAttemptAt: number | null;
  updatedAt: number;
}

export interface RunRecord {
  id: string;
  job: string;
  trigger: string;
  owner: string;
  startedAt: number;
  finishedAt: number | null;
  status: string | null;
  result: unknown;
}

/** What the ledger can tell of a run whose process died: its record (now finished) and its plans' items. */
export interface InterruptedRunFacts {
  run: RunRecord & { finishedAt: number };
  /** Per phase, the items of the job's plans that were open while the run ran, by status; `raw`: completed raw. */
  phases: { phase: string; counts: StatusCounts; raw: number }[];
  /** The newest item transition of those plans while it ran (its last sign of work), or null. */
  lastActivityAt: number | null;
}

export interface EventRecord {
  id?: number;
  ts: number;
  runId: string | null;
  job: string | null;
  level: "debug" | "info" | "warn" | "error";
  type: string;
  message: string;
  data?: unknown;
}

export interface SearchHit {
  job: string;
  collection: string;
  key: string;
  version: string;
  score: number;
  snippet: string;
  /** Where the best-matching chunk is, when the document is a file cut by lines: `path:line symbol`. */
  path?: string;
  line?: number;
  endLine?: number;
  symbol?: string;
  language?: string;
}

export interface Checkpoint {
  value: string;
  updatedAt: number;
}

export type BreakerState = "closed" | "open" | "half_open";

/** A provider's circuit breaker, shared by every process on the same ledger. */
export interface BreakerRecord {
  provider: string;
  state: BreakerState;
  /** Consecutive failures while closed; successful probes while half-open. */
  failures: number;
  successes: number;
  openedAt: number | null;
  openUntil: number | null;
  /** How many times it re-opened from half-open since it was last closed (the open period doubles each time). */
  reopenCount: number;
  isolated: boolean;
  reason: string | null;
  updatedAt: number;
}

/** A provider's rate gate: a shared pause and an optional shared token bucket. */
export interface GateRecord {
  provider: string;
  pausedUntil: number;
  reason: string | null;
  tokens: number | null;
  refilledAt: number | null;
  updatedAt: number;
}

/** An enrich step owed for an item stored raw. */
export interface DebtRecord {
  id: number;
  job: string;
  phase: string;
  key: string;
  version: string;
  step: number;
  provider: string | null;
  reason: string | null;
  attempts: number;
  createdAt: number;
}

/** A debt recorded, or paid, with writes made outside an item's settlement (a note, a debt payment). */
export interface DebtChanges {
  /** The debt these writes pay: it goes in their transaction. */
  paid?: number;
  /** Steps owed for the document written. */
  owe?: readonly (NewDebt & { job: string; phase: string; key: string; version: string })[];
}

export interface NewDebt {
  step: number;
  provider: string | null;
  reason: string;
}

/** Who holds a job's run lease. */
export interface JobLock {
  job: string;
  owner: string;
  pid: number;
  host: string;
  startedAt: number;
  heartbeatAt: number;
  expiresAt: number;
  /** Grows with every acquisition; checkpoint writes carry it and are refused once it is stale. */
  fence: number;
  /** Its expiry passed when it was read (the ledger's clock). */
  expired: boolean;
}

export type LockAttempt =
  { acquired: true; lock: JobLock; reclaimed?: JobLock } | { acquired: false; holder: JobLock };

/** PROCESSING items of one job's phase whose lease expired. */
export interface LeaseCount {
  job: string;
  phase: string;
  n: number;
}

/** Who works on a plan now: an owner holding leases on its items, how many, and when its newest lease ends. */
export interface LeaseHolder {
  /** `host:pid:nonce`. */
  owner: string;
  items: number;
  /** The ledger's clock: the newest expiry among its leases (its last heartbeat + the lease period). */
  expiresAt: number;
}
