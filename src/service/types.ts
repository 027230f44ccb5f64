import type { PhaseResult } from "../engine/events.js";
import type { ErrorClass } from "../errors.js";

export type Trigger = "cli" | "daemon" | "mcp" | "api";

/** One request shape for every entry point (DESIGN.md). */
export interface SyncRequest {
  job: string;
  phases?: readonly string[];
  scope?: { ids?: readonly string[]; since?: string; entities?: readonly string[] };
  options?: { force?: boolean; incrementalOnly?: boolean; nuke?: boolean; wait?: number | false };
  trigger: Trigger;
  signal?: AbortSignal;
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
