import type { ErrorClass } from "./errors.js";

/** Who asked for a run. */
export type Trigger = "cli" | "daemon" | "mcp" | "api";

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
}

export interface PhaseResult {
  name: string;
  total: number;
  completed: number;
  skipped: number;
  failed: number;
  dead: number;
  pending: number;
  /** The phase's checkpoint after this run. */
  checkpoint: string | null;
  /** Why items were skipped (unchanged, binary, oversized, ...). */
  skippedReasons: Record<string, number>;
  /** Items completed raw because a degradable enrich step's provider was unavailable (debts owed). */
  degraded: number;
}

export type SyncStatus = "completed" | "partial" | "failed" | "cancelled" | "skipped";
export type Degradation = "full" | "partial" | "raw_only";

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
