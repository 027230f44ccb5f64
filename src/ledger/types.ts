import type { ErrorClass } from "../errors.js";

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
}
export interface DocumentDelete {
  kind: "delete";
  job: string;
  collection: string;
  key: string;
}
/** A write to the embedded document store, committed in the same transaction as the item's settlement. */
export type DocumentWrite = DocumentUpsert | DocumentDelete;

/** The outcome of one claimed item, applied in a batch (group commit). */
export interface Settlement {
  id: number;
  fence: number;
  status: "COMPLETED" | "SKIPPED" | "FAILED" | "DEAD";
  reason?: string;
  errorClass?: ErrorClass;
  errorMessage?: string;
  /** Failed attempts so far, including this one. */
  attempts?: number;
  nextAttemptAt?: number;
  /** Set the key's fingerprint to this version, or delete it (null). */
  fingerprint?: string | null;
  writes?: DocumentWrite[];
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
}

export interface Checkpoint {
  value: string;
  updatedAt: number;
}
