import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { explainNextRun, parseSchedule } from "../config/schedule.js";
import type { JobConfig } from "../config/schema.js";
import { errorMessage, UsageError } from "../errors.js";
import type { SyncService } from "../service/sync-service.js";
import type { SyncResult } from "../service/types.js";
import type { McpLaunches } from "./launches.js";
import * as S from "./schemas.js";
import { checkJob, failure, iso, ok, type McpServices } from "./tool-kit.js";

/** When a scheduled job is due next (the daemon's rule: after its last success), or null when unscheduled. */
export function nextRun(
  schedule: JobConfig["schedule"],
  lastSuccess: string | null,
  now = Date.now(),
): string | null {
  try {
    const parsed = parseSchedule("job", schedule);
    if (!parsed) return null;
    const last = lastSuccess === null ? Number.NaN : Date.parse(lastSuccess);
    const at = explainNextRun(parsed, Number.isNaN(last) ? null : last, null, now).at;
    return Number.isFinite(at) ? new Date(at).toISOString() : null;
  } catch {
    return null;
  }
}

/** One run by id: one this server started (live), else the ledger's record of it (any process). */
async function runState(sync: SyncService, launches: McpLaunches, runId: string) {
  const launch = launches.runs.get(runId);
  if (launch) {
    return {
      runId,
      job: launch.name,
      state: launch.state,
      startedAt: launch.startedAt,
      endedAt: launch.endedAt,
      progress: launch.state === "running" ? (sync.running(launch.name) ?? null) : null,
      result: launch.result,
      ...(launch.state === "ended" && !launch.result ? { error: errorMessage(launch.error) } : {}),
    };
  }
  const record = (await sync.history(undefined, 500)).find((r) => r.id === runId);
  if (!record) throw new UsageError(`unknown run "${runId}": not among the newest 500 runs (see history)`);
  const ended = record.finishedAt !== null;
  return {
    runId,
    job: record.job,
    state: ended ? ("ended" as const) : ("running" as const),
    startedAt: iso(record.startedAt),
    endedAt: iso(record.finishedAt),
    progress: ended ? null : (sync.running(record.job) ?? null),
    result: (record.result ?? null) as SyncResult | null,
  };
}

export function registerSyncStatus(
  server: McpServer,
  { sync, replicas: replicaService }: McpServices,
  launches: McpLaunches,
): void {
  server.registerTool(
    "sync_status",
    {
      description:
        "Per job: checkpoints, counts, documents, debts, last run and success, live progress, next run; breakers. run_id: that run.",
      inputSchema: S.syncStatusInput,
      outputSchema: S.syncStatusOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        checkJob(sync, args.job);
        const run = args.run_id === undefined ? undefined : await runState(sync, launches, args.run_id);
        const only = run?.job ?? args.job;
        const jobs = (await sync.status(only)).map((status) => ({
          ...status,
          running: sync.running(status.job) ?? null,
          runningId: launches.runs.list(status.job).find((l) => l.state !== "ended")?.id ?? null,
          nextRun: nextRun(sync.loaded.config.jobs[status.job]?.schedule, status.lastSuccess),
        }));
        const providers = await sync.providerHealth();
        const replicas = await replicaService.status();
        const lines = [];
        if (run) {
          const p = run.progress;
          lines.push(
            `run ${run.runId} (${run.job}): ${run.state}` +
              (p ? `, ${p.phase} ${p.completed + p.skipped + p.dead}/${p.total} (${p.percent}%)` : "") +
              (run.result ? `, ${run.result.status}` : "") +
              ("error" in run ? `: ${run.error}` : ""),
          );
        }
        lines.push(
          ...jobs.map(
            (j) =>
              `${j.job}: ${j.running ? `running ${j.running.phase} ${j.running.percent}%` : "idle"}; last success ${j.lastSuccess ?? "never"}; ${j.documents} documents; ${j.debts} debts; next run ${j.nextRun ?? "unscheduled"}; ` +
              j.phases.map((p) => `${p.name} checkpoint ${p.checkpoint ?? "none"}`).join(", "),
          ),
        );
        const open = [
          ...providers.map((p) => ({ name: p.provider, breaker: p.breaker })),
          ...replicas,
        ].filter((b) => b.breaker.state !== "closed");
        lines.push(
          open.length
            ? open.map((b) => `${b.name}: breaker ${b.breaker.state}`).join("; ")
            : "all breakers closed",
        );
        for (const r of replicas)
          lines.push(`${r.name} → ${r.path}: last success ${r.lastSuccess ?? "never"}`);
        return ok({ jobs, providers, replicas, ...(run ? { run } : {}) }, lines);
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}
