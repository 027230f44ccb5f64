import type { InterruptedRunFacts, RunRecord } from "./types.js";

/** Runs: one execution of a job, from its start to its result. */
export interface RunStore {
  /** Records a run as started (the ledger's clock stamps it). */
  start(run: { id: string; job: string; trigger: string; owner: string }): Promise<void>;
  finish(id: string, status: string, result: unknown): Promise<void>;
  /** Newest first. */
  list(job: string | undefined, limit: number): Promise<RunRecord[]>;
  /** Runs with no finish time (still running, or left so by a process that died), of one job or all, oldest first. */
  unfinished(job?: string): Promise<RunRecord[]>;
  /**
   * Closes a run left unfinished as `interrupted`, its finish stamped by the ledger's clock, with the result
   * `result` builds from what the ledger can tell (the items, by phase and status, of the job's plans open
   * while it ran), in one transaction. Undefined when it had finished meanwhile (nothing is changed).
   */
  interrupt(id: string, result: (facts: InterruptedRunFacts) => unknown): Promise<RunRecord | undefined>;
}
