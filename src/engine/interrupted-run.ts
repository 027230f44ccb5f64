import type { RunStore } from "../ledger/run-store.js";
import type { InterruptedRunFacts, RunRecord } from "../ledger/types.js";
import type { InterruptedResult, PhaseResult } from "../results.js";
import { degradationOf } from "./degradation.js";

/** The result of a run whose process died, from the item counts of its job's plans open while it ran. */
export function interruptedResult(f: InterruptedRunFacts, closedBy: string): InterruptedResult {
  const phases: PhaseResult[] = f.phases.map(({ phase, counts: c, raw }) => ({
    name: phase,
    total: c.PENDING + c.PROCESSING + c.COMPLETED + c.SKIPPED + c.FAILED + c.DEAD,
    completed: c.COMPLETED,
    skipped: c.SKIPPED,
    failed: c.FAILED,
    dead: c.DEAD,
    pending: c.PENDING + c.PROCESSING,
    checkpoint: null,
    skippedReasons: {},
    degraded: raw,
  }));
  const stored = phases.reduce((a, p) => a + p.completed, 0);
  const raw = phases.reduce((a, p) => a + p.degraded, 0);
  const end = Math.max(f.lastActivityAt ?? f.run.startedAt, f.run.startedAt);
  return {
    runId: f.run.id,
    job: f.run.job,
    status: "interrupted",
    degradation: degradationOf({ finished: false, stored, enrichable: stored, raw, troubled: true }),
    durationSeconds: Math.round((end - f.run.startedAt) / 100) / 10,
    phasesCompleted: phases.filter((p) => p.pending + p.failed + p.dead === 0).length,
    phases,
    warnings: [
      `its process (${f.run.owner}) stopped without finishing; closed as interrupted by ${closedBy}; a later run resumes its unfinished items`,
    ],
  };
}

/** Closes these unfinished runs as interrupted (each unless it finished meanwhile); returns those closed. */
export async function closeInterruptedRuns(
  runs: RunStore,
  unfinished: readonly RunRecord[],
  closedBy: string,
): Promise<RunRecord[]> {
  const closed: RunRecord[] = [];
  for (const r of unfinished) {
    const done = await runs.interrupt(r.id, (facts) => interruptedResult(facts, closedBy));
    if (done) closed.push(done);
  }
  return closed;
}
