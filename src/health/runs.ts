import { isOwnerGone } from "../engine/owner.js";
import type { Ledger } from "../ledger/ledger.js";
import type { RunRecord } from "../ledger/types.js";
import { check, type CheckResult } from "./types.js";

/**
 * Runs left unfinished whose holder is gone: a live run holds its job's lock under its own owner, so a run
 * whose job lock is free, held by another owner, expired (the ledger's clock) or held by a dead pid of
 * this host (a hint) stopped without finishing.
 */
export async function abandonedRuns(ledger: Ledger): Promise<RunRecord[]> {
  const out: RunRecord[] = [];
  for (const run of await ledger.runs.unfinished()) {
    const lock = await ledger.locks.read(run.job);
    if (!lock || lock.owner !== run.owner || lock.expired || isOwnerGone(run.owner)) out.push(run);
  }
  return out;
}

export const describeRun = (r: RunRecord): string =>
  `${r.job} (run ${r.id.slice(0, 8)} by ${r.owner}, started ${new Date(r.startedAt).toISOString()})`;

export function checkRuns(abandoned: readonly RunRecord[]): CheckResult {
  if (abandoned.length === 0) return check("runs", "ok", "no run left running by a stopped process");
  return check(
    "runs",
    "warning",
    `${abandoned.length} runs left running by a stopped process: ${abandoned.map(describeRun).join(", ")} (doctor --repair or the job's next run closes them as interrupted)`,
    {
      abandoned: abandoned.map((r) => ({ runId: r.id, job: r.job, owner: r.owner, startedAt: r.startedAt })),
    },
  );
}
