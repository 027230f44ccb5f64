import { randomUUID } from "node:crypto";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { UsageError } from "../errors.js";
import type { SyncService } from "../service/sync-service.js";
import type { SyncResult } from "../service/types.js";
import { within, type Launch, type McpLaunches } from "./launches.js";
import { forwardProgress } from "./progress.js";
import * as S from "./schemas.js";
import { checkJob, failure, ok, type Extra, type McpServerOptions } from "./tool-kit.js";

/** How long sync_data (without wait) waits for its run to start before answering `waiting`. */
const START_WAIT_MS = 5000;

function summary(r: SyncResult): string {
  const phases = r.phases.map(
    (p) =>
      `${p.name}: ${p.completed} completed, ${p.skipped} skipped, ${p.failed} failed, ${p.dead} dead, ${p.pending} pending`,
  );
  const error = r.error ? `; ${r.error.errorClass}: ${r.error.message}` : "";
  return [
    `${r.job}: ${r.status} in ${r.durationSeconds}s (${r.degradation})${error}`,
    ...phases,
    ...r.warnings,
  ].join("\n");
}

/** A launched run as sync_data and cancel_sync answer: its result once ended, else its id and where it stands. */
function answer(sync: SyncService, launch: Launch<SyncResult>, waited: boolean): CallToolResult {
  if (launch.result) return ok(launch.result, summary(launch.result), launch.result.status === "failed");
  if (launch.state === "ended") return failure(sync, launch.name, launch.error);
  const status = launch.state === "waiting" ? "waiting" : waited ? "running" : "started";
  const how =
    launch.state === "waiting"
      ? "is waiting for another runner of the job"
      : status === "started"
        ? "started"
        : "is still running";
  return ok(
    { runId: launch.id, job: launch.name, status },
    `${launch.name}: run ${launch.id} ${how}; sync_status {"run_id": "${launch.id}"} reports its progress and result`,
  );
}

export function registerSyncData(
  server: McpServer,
  sync: SyncService,
  launches: McpLaunches,
  opts: McpServerOptions,
): void {
  server.registerTool(
    "sync_data",
    {
      description:
        "Start a sync job. Returns at once with the run id (status started): follow it with sync_status {run_id}. wait: true waits up to wait_seconds (≤ 50) for the SyncResult.",
      inputSchema: S.syncDataInput,
      outputSchema: S.syncResultOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      try {
        checkJob(sync, args.job);
        const runId = randomUUID();
        const off = args.wait ? forwardProgress(sync, runId, extra) : () => undefined;
        try {
          const scope = {
            ...(args.ids !== undefined ? { ids: args.ids } : {}),
            ...(args.since !== undefined ? { since: args.since } : {}),
          };
          const launch = launches.runs.start(runId, args.job, opts.shutdown, (signal) =>
            sync.execute({
              job: args.job,
              runId,
              trigger: "mcp",
              ...(Object.keys(scope).length > 0 ? { scope } : {}),
              options: {
                force: args.force ?? false,
                wait: args.lock_wait_seconds > 0 ? args.lock_wait_seconds : false,
              },
              signal,
            }),
          );
          if (args.wait) await within(launch.settled, args.wait_seconds * 1000, extra.signal);
          else await within(launch.begun, START_WAIT_MS, extra.signal);
          return answer(sync, launch, args.wait);
        } finally {
          off();
        }
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}

export function registerCancelSync(server: McpServer, sync: SyncService, launches: McpLaunches): void {
  server.registerTool(
    "cancel_sync",
    {
      description:
        "Cancel a run sync_data started (by run_id, or the job's): in-flight items finish, the rest stay pending for the next run. Returns its result.",
      inputSchema: S.cancelSyncInput,
      outputSchema: S.syncResultOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      try {
        checkJob(sync, args.job);
        if (args.run_id === undefined && args.job === undefined)
          throw new UsageError("cancel_sync needs run_id or job");
        const launch =
          args.run_id !== undefined
            ? launches.runs.get(args.run_id)
            : launches.runs.list(args.job).find((l) => l.state !== "ended");
        if (launch?.state !== "running" && launch?.state !== "waiting")
          throw new UsageError(
            `no run ${args.run_id ?? `of ${args.job}`} started by this server is in progress (runs of the CLI or the daemon stop on SIGINT to their process)`,
          );
        launch.controller.abort();
        await within(launch.settled, S.MAX_WAIT_SECONDS * 1000, extra.signal);
        return answer(sync, launch, true);
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}

export function registerRetryFailed(server: McpServer, sync: SyncService, opts: McpServerOptions): void {
  server.registerTool(
    "retry_failed",
    {
      description:
        "Requeue FAILED items (include_dead: DEAD ones too) as pending for the next sync_data; pay_debts: run owed enrichment steps now.",
      inputSchema: S.retryFailedInput,
      outputSchema: S.retryFailedOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    async (args, extra: Extra) => {
      try {
        checkJob(sync, args.job);
        const requeued = await sync.retryFailed(args.job, args.include_dead ?? false);
        const lines = [`requeued ${requeued} items`];
        if (!args.pay_debts) return ok({ requeued }, lines);
        const signal = opts.shutdown ? AbortSignal.any([extra.signal, opts.shutdown]) : extra.signal;
        const debts = [];
        for (const job of args.job === undefined ? sync.jobNames() : [args.job]) {
          const paying = sync.payDebts(job, signal);
          opts.inflight?.add(paying);
          const paid = await paying.finally(() => opts.inflight?.delete(paying));
          debts.push({ job, ...paid });
          lines.push(`${job}: paid ${paid.paid} debts, ${paid.remaining} remain`);
        }
        return ok({ requeued, debts }, lines);
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}

export function registerListJobs(server: McpServer, sync: SyncService): void {
  server.registerTool(
    "list_jobs",
    {
      description: "The configured sync jobs: name, description, phases in order, schedule.",
      inputSchema: {},
      outputSchema: S.listJobsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => {
      const jobs = Object.entries(sync.loaded.config.jobs).map(([name, j]) => ({
        name,
        description: j.description ?? null,
        phases: j.phases.map((p) => p.name),
        schedule: j.schedule ?? null,
      }));
      const lines = jobs.map(
        (j) => `${j.name}: ${j.phases.join(" → ")}${j.schedule?.every ? `, every ${j.schedule.every}` : ""}`,
      );
      return ok({ jobs }, lines.join("\n") || "no jobs configured");
    },
  );
}
