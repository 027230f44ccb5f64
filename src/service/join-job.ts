import type { PhaseConfig } from "../config/schema.js";
import { joinPlan } from "../engine/run-phase.js";
import { withPhase, type RunDeps } from "./run-job.js";

/** What a worker's visit to a job did. */
export interface JoinOutcome {
  /** Open plans it worked on. */
  joined: number;
  /** Plans it closed (it settled the last item and moved the checkpoint). */
  closed: number;
}

/**
 * A worker's visit to a job: every open plan of its phases (the job's main scope) gets `workers` of this
 * process beside whoever else works on it; returns when none is left to claim.
 */
export async function joinJob(
  deps: RunDeps,
  job: string,
  phases: readonly PhaseConfig[],
  owner: string,
  workers: number,
  signal: AbortSignal,
  warnings: string[],
): Promise<JoinOutcome> {
  const out: JoinOutcome = { joined: 0, closed: 0 };
  for (const phase of phases) {
    if (signal.aborted) break;
    const plan = await deps.ledger.plans.findPlan({ job, phase: phase.name, scope: "" }, "open");
    if (!plan) continue;
    out.joined++;
    const closed = await withPhase(
      deps,
      job,
      phase,
      owner,
      signal,
      warnings,
      (work) => joinPlan(plan, work),
      workers,
    );
    if (closed) out.closed++;
  }
  return out;
}
