import type { ErrorClass } from "./errors.js";

/** Who asked for a run. */
export type Trigger = "cli" | "daemon" | "mcp" | "api" | "worker";

/** A snapshot of a phase's progress. */
export interface Progress {
  job: string;
  phase: string;
  total: number;
  completed: number;
  skipped: number;
  failed: number;
  dead: number;
  pending: number;
  processing: number;
  percent: number;
  itemsPerSecond: number;
  /** Seconds left at the current rate; null until there is a rate. */
  etaSeconds: number | null;
  /** Items this process settled in this phase so far, by outcome (what metrics count; plan counts include earlier runs'). */
  settled?: { completed: number; skipped: number; failed: number; dead: number };
}

export interface PhaseResult {
  name: string;
  total: number;
  completed: number;
  skipped: number;
  failed: number;
  dead: number;
  pending: number;
  /**
   * Set when the run stopped at a rate limit instead of waiting (`sync.pause_on_rate_limit: false`): when
   * the limit resets (ISO time), so the next run can start then.
   */
  rateLimitedUntil?: string;
  /** The phase's checkpoint after this run. */
  checkpoint: string | null;
  /** Why items were skipped (unchanged, binary, oversized, ...). */
  skippedReasons: Record<string, number>;
  /** Items completed raw because a degradable enrich step's provider was unavailable (debts owed). */
  degraded: number;
}

export type SyncStatus = "completed" | "partial" | "failed" | "cancelled" | "skipped";
/**
 * What a run stored: `full` (every item done and enriched), `partial` (some stored: some raw, failed, dead,
 * or the run stopped before the end), `raw_only` (everything stored went in raw: its enrich provider was
 * down), `none` (a failed, cancelled or interrupted run that stored nothing).
 */
export type Degradation = "full" | "partial" | "raw_only" | "none";
/** A run's status in history: its result's, or `interrupted` (its process died; closed by the next run or doctor). */
export type RunStatus = SyncStatus | "interrupted";

/** One result shape for every entry point (DESIGN.md). */
export interface SyncResult {
  runId: string;
  job: string;
  status: SyncStatus;
  degradation: Degradation;
  durationSeconds: number;
  phasesCompleted: number;
  phases: PhaseResult[];
  warnings: string[];
  error?: { errorClass: ErrorClass; message: string };
}

/** The result recorded for a run whose process died, from what the ledger could tell when it was closed. */
export type InterruptedResult = Omit<SyncResult, "status" | "error"> & { status: "interrupted" };
