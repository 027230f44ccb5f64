import type { ErrorClass } from "../errors.js";
import type { PlanMode } from "../ledger/types.js";

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

/** Every event the engine emits, one typed map (namespaced like graphile-worker's). */
export interface EngineEventMap {
  "phase:start": { job: string; phase: string; checkpoint: string | null };
  "plan:recorded": {
    job: string;
    phase: string;
    planId: number;
    mode: PlanMode;
    from: string | null;
    target: string | null;
    total: number;
    resumed: boolean;
  };
  "leases:requeued": { job: string; phase: string; count: number };
  progress: Progress;
  "item:failed": {
    job: string;
    phase: string;
    key: string;
    errorClass: ErrorClass;
    message: string;
    attempts: number;
    dead: boolean;
  };
  "retry:wait": { job: string; phase: string; seconds: number };
  "checkpoint:moved": { job: string; phase: string; from: string | null; to: string | null };
  "phase:end": { job: string; phase: string; result: PhaseResult };
}

export type EngineEventName = keyof EngineEventMap;
export type EngineEvent = { [K in EngineEventName]: { type: K } & EngineEventMap[K] }[EngineEventName];
export type EngineListener = (event: EngineEvent) => void;
