import type { RunRecord } from "./types.js";

/** Runs: one execution of a job, from its start to its result. */
export interface RunStore {
  /** Records a run as started (the ledger's clock stamps it). */
  start(run: { id: string; job: string; trigger: string; owner: string }): Promise<void>;
  finish(id: string, status: string, result: unknown): Promise<void>;
  /** Newest first. */
  list(job: string | undefined, limit: number): Promise<RunRecord[]>;
}
