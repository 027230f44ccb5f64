import { replicaStatus, type ReplicaTargetStatus } from "../../replicas/target-status.js";
import { jobStatus, providerHealth, type JobStatus } from "../../service/status.js";
import { printJson, withService, type GlobalOptions } from "../context.js";
import { renderHealth } from "./breakers.js";

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

/** `replica:notes:drive → /mnt/usb/notes (bidirectional): breaker closed; last success 2026-…` */
const renderReplica = (r: ReplicaTargetStatus): string =>
  `${renderHealth({ provider: `${r.name} → ${r.path} (${r.direction})`, breaker: r.breaker, gate: null })}; last success ${r.lastSuccess ?? "never"}`;

export async function statusCommand(
  job: string | undefined,
  opts: GlobalOptions & { json?: boolean },
): Promise<number> {
  return withService(opts, async (service) => {
    if (job !== undefined) service.job(job);
    const jobs = [];
    for (const name of job === undefined ? service.jobNames() : [job])
      jobs.push(await jobStatus(service, name));
    const providers = await providerHealth(service);
    const replicas = await replicaStatus(service.ledger, service.loaded);
    if (opts.json)
      printJson({
        config: service.loaded.file,
        stateDir: service.loaded.stateDir,
        jobs,
        providers,
        replicas,
      });
    else
      process.stdout.write(
        [...jobs.map(render), ...providers.map(renderHealth), ...replicas.map(renderReplica)].join("\n") +
          "\n",
      );
    return 0;
  });
}
