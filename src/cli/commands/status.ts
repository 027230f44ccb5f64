import type { Command } from "commander";
import type { JobStatus } from "../../service/status.js";
import type { ReplicaTargetStatus } from "../../service/replica-service.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { renderHealth } from "./breakers.js";

export function register(program: Command): void {
  program
    .command("status")
    .description("checkpoints, item counts, documents, last run and last success per job and phase")
    .argument("[job]")
    .option("--json", "print as JSON on stdout")
    .action(act((job: string | undefined, _o: unknown, cmd: Command) => statusCommand(job, globalsOf(cmd))));
}

/** "completed at <finish time>" for a finished run; "running since <start time>" for one that has not finished. */
const lastRun = (r: JobStatus["lastRun"]): string =>
  r === null
    ? "never"
    : r.status !== null && r.finishedAt !== null
      ? `${r.status} at ${r.finishedAt}`
      : `running since ${r.startedAt}`;

function render(s: JobStatus): string {
  const lines = [
    `${s.job}: last run ${lastRun(s.lastRun)}; last success ${s.lastSuccess ?? "never"}; ${s.documents} documents${s.debts > 0 ? `; ${s.debts} enrichment debts` : ""}`,
  ];
  const m = s.memory;
  if (m)
    lines.push(
      `  memory: ${m.episodes} episodes (${m.episodes - m.extracted} raw), ${m.entities} entities, ${m.facts} facts (${m.validFacts} valid); tokens ${m.promptTokens} prompt + ${m.completionTokens} completion`,
    );
  for (const p of s.phases) {
    const c = p.items;
    const counts = c
      ? `${c.COMPLETED} completed, ${c.SKIPPED} skipped, ${c.FAILED} failed, ${c.DEAD} dead, ${c.PENDING + c.PROCESSING} pending`
      : "no plan yet";
    lines.push(
      `  ${p.name}: checkpoint ${p.checkpoint ?? "(none)"}; ${p.plan?.state === "open" ? "open plan: " : "last plan: "}${counts}`,
    );
    for (const w of p.workers)
      lines.push(
        `    worker ${w.host} pid ${w.pid}: ${w.inFlight} items in flight; last heartbeat ${w.lastHeartbeat}`,
      );
  }
  return lines.join("\n");
}

/** `replica:notes:drive → /mnt/usb/notes (bidirectional): breaker closed; last success 2026-…` */
const renderReplica = (r: ReplicaTargetStatus): string =>
  `${renderHealth({ provider: `${r.name} → ${r.path} (${r.direction})`, breaker: r.breaker, gate: null })}; last success ${r.lastSuccess ?? "never"}`;

async function statusCommand(
  job: string | undefined,
  opts: GlobalOptions & { json?: boolean },
): Promise<number> {
  return withServices({ ...opts, jobs: [job] }, async ({ sync, replicas: replicaService }) => {
    const jobs = await sync.status(job);
    const providers = await sync.providerHealth();
    const replicas = await replicaService.status();
    if (opts.json)
      printJson({ config: sync.loaded.file, stateDir: sync.loaded.stateDir, jobs, providers, replicas });
    else
      process.stdout.write(
        [...jobs.map(render), ...providers.map(renderHealth), ...replicas.map(renderReplica)].join("\n") +
          "\n",
      );
    return 0;
  });
}
