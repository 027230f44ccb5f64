import { LAST_SUCCESS_KEY, type SyncService } from "../../service/sync-service.js";
import { UsageError } from "../../errors.js";
import type { StatusCounts } from "../../ledger/types.js";
import { printJson, withService, type GlobalOptions } from "../context.js";
import { providerHealth, renderHealth } from "./breakers.js";

export interface PhaseStatus {
  name: string;
  checkpoint: string | null;
  checkpointUpdatedAt: string | null;
  plan: { id: number; state: string; target: string | null } | null;
  items: StatusCounts | null;
  documents: number | null;
}

export interface JobStatus {
  job: string;
  lastSuccess: string | null;
  lastRun: {
    id: string;
    trigger: string;
    status: string | null;
    startedAt: string;
    finishedAt: string | null;
    durationSeconds: number | null;
  } | null;
  documents: number;
  /** Enrich steps owed for items stored raw. */
  debts: number;
  phases: PhaseStatus[];
}

const iso = (t: number | null | undefined): string | null => (t == null ? null : new Date(t).toISOString());

export async function jobStatus(service: SyncService, job: string): Promise<JobStatus> {
  const { ledger } = service;
  const config = service.loaded.config.jobs[job]!;
  const phases: PhaseStatus[] = [];
  for (const p of config.phases) {
    const ref = { job, phase: p.name, scope: "" };
    const cp = await ledger.getCheckpoint(ref);
    const plan = await ledger.latestPlan(ref);
    phases.push({
      name: p.name,
      checkpoint: cp?.value ?? null,
      checkpointUpdatedAt: iso(cp?.updatedAt),
      plan: plan ? { id: plan.id, state: plan.state, target: plan.target } : null,
      items: plan ? await ledger.countItems(plan.id) : null,
      documents:
        p.sink.type === "sqlite-docs" ? await ledger.countDocuments({ job, collection: p.sink.table }) : null,
    });
  }
  const [run] = await ledger.listRuns(job, 1);
  return {
    job,
    lastSuccess: (await ledger.getMeta(LAST_SUCCESS_KEY(job))) ?? null,
    lastRun: run
      ? {
          id: run.id,
          trigger: run.trigger,
          status: run.status,
          startedAt: iso(run.startedAt)!,
          finishedAt: iso(run.finishedAt),
          durationSeconds:
            run.finishedAt === null ? null : Math.round((run.finishedAt - run.startedAt) / 100) / 10,
        }
      : null,
    documents: await ledger.countDocuments({ job }),
    debts: await ledger.countDebts(job),
    phases,
  };
}

function render(s: JobStatus): string {
  const lines = [
    `${s.job}: last run ${s.lastRun ? `${s.lastRun.status ?? "running"} at ${s.lastRun.startedAt}` : "never"}; last success ${s.lastSuccess ?? "never"}; ${s.documents} documents${s.debts > 0 ? `; ${s.debts} enrichment debts` : ""}`,
  ];
  for (const p of s.phases) {
    const c = p.items;
    const counts = c
      ? `${c.COMPLETED} completed, ${c.SKIPPED} skipped, ${c.FAILED} failed, ${c.DEAD} dead, ${c.PENDING + c.PROCESSING} pending`
      : "no plan yet";
    lines.push(
      `  ${p.name}: checkpoint ${p.checkpoint ?? "(none)"}; ${p.plan?.state === "open" ? "open plan: " : "last plan: "}${counts}`,
    );
  }
  return lines.join("\n");
}

export async function statusCommand(
  job: string | undefined,
  opts: GlobalOptions & { json?: boolean },
): Promise<number> {
  return withService(opts, async (service) => {
    if (job !== undefined && !service.jobNames().includes(job)) {
      throw new UsageError(
        `unknown job "${job}"; ${service.loaded.file} defines: ${service.jobNames().join(", ")}`,
      );
    }
    const jobs = [];
    for (const name of job === undefined ? service.jobNames() : [job])
      jobs.push(await jobStatus(service, name));
    const providers = await providerHealth(service);
    if (opts.json)
      printJson({ config: service.loaded.file, stateDir: service.loaded.stateDir, jobs, providers });
    else process.stdout.write([...jobs.map(render), ...providers.map(renderHealth)].join("\n") + "\n");
    return 0;
  });
}
