import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { explainNextRun, parseSchedule } from "../config/schedule.js";
import type { JobConfig } from "../config/schema.js";
import { redact } from "../config/secrets.js";
import { errorMessage, isLockedError, UsageError } from "../errors.js";
import type { ReplicaService } from "../service/replica-service.js";
import type { SyncService } from "../service/sync-service.js";
import type { SyncResult } from "../service/types.js";
import * as S from "./schemas.js";

export interface McpServerOptions {
  version?: string;
  /** Aborted on shutdown: stops every run this server started (the ledger stays resumable). */
  shutdown?: AbortSignal;
  /** Each run or debt payment is held here until it settles, so the caller can await them before closing the service. */
  inflight?: Set<Promise<unknown>>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const text = (t: string): CallToolResult["content"][number] => ({ type: "text", text: t });

/** The one sentence a model can act on, as an isError result. */
function failure(service: SyncService, job: string | undefined, e: unknown): CallToolResult {
  if (isLockedError(e)) {
    // in this process the run's ETA is known; across processes, the holder's lease says when to look again
    const eta = job === undefined ? null : (service.running(job)?.etaSeconds ?? null);
    const seconds = Math.min(3600, Math.max(1, Math.ceil(eta ?? (e.holder.expiresAt - Date.now()) / 1000)));
    return {
      isError: true,
      content: [text(`${e.message} (retry after about ${seconds}s)`)],
      _meta: { retryAfterSeconds: seconds },
    };
  }
  return { isError: true, content: [text(redact(errorMessage(e)))] };
}

function requireJob(service: SyncService, job: string): JobConfig {
  const config = service.loaded.config.jobs[job];
  if (!config)
    throw new UsageError(`unknown job "${job}"; valid jobs: ${service.jobNames().join(", ") || "(none)"}`);
  return config;
}

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

/** Forwards the job's progress events as `notifications/progress` when the client sent a token; returns the unsubscribe. */
function forwardProgress(service: SyncService, job: string, extra: Extra): () => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => undefined;
  let mine = false; // only events after our own run started (not those of a run we queued behind)
  let base = 0; // the totals of earlier phases, so progress keeps increasing across phases
  let phase: string | undefined;
  let phaseTotal = 0;
  let sent = -1;
  const subscription = service.on((e) => {
    if (e.type === "run:start" && e.job === job) mine = true;
    if (!mine || e.type !== "progress" || e.job !== job) return;
    if (phase !== undefined && e.phase !== phase) base += phaseTotal;
    phase = e.phase;
    phaseTotal = e.total;
    const done = e.completed + e.skipped + e.dead;
    if (base + done <= sent) return;
    sent = base + done;
    extra
      .sendNotification({
        method: "notifications/progress",
        params: {
          progressToken: token,
          progress: sent,
          total: base + e.total,
          message: `${e.phase}: ${done}/${e.total}`,
        },
      })
      .catch(() => undefined);
  });
  return () => subscription.dispose();
}

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

/** What the tools call: the sync service, and the replicas beside it. */
export interface McpServices {
  sync: SyncService;
  replicas: ReplicaService;
}

type Track = <T>(extra: Extra, fn: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/** An MCP server over the services: every tool is a thin call into them (DESIGN.md, guarantee 7). */
export function createMcpServer(services: McpServices, opts: McpServerOptions = {}): McpServer {
  const server = new McpServer(
    { name: "syncwarden", version: opts.version ?? "0.1.0" },
    {
      instructions:
        "Sync jobs of syncwarden: list_jobs, then sync_data; sync_status shows checkpoints and health.",
    },
  );
  /** Runs fn with a signal that the request's cancellation and the server's shutdown both abort. */
  const track: Track = async (extra, fn) => {
    const signal = opts.shutdown ? AbortSignal.any([extra.signal, opts.shutdown]) : extra.signal;
    const p = fn(signal);
    opts.inflight?.add(p);
    try {
      return await p;
    } finally {
      opts.inflight?.delete(p);
    }
  };
  registerSyncData(server, services.sync, track);
  registerSyncStatus(server, services);
  registerRetryFailed(server, services.sync, track);
  registerListJobs(server, services.sync);
  return server;
}

function registerSyncData(server: McpServer, service: SyncService, track: Track): void {
  server.registerTool(
    "sync_data",
    {
      description:
        "Run a sync job (plan, record and process its items, move its checkpoints) and return its SyncResult. A cancelled run resumes where it stopped.",
      inputSchema: S.syncDataInput,
      outputSchema: S.syncResultOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      try {
        requireJob(service, args.job);
        const off = forwardProgress(service, args.job, extra);
        try {
          const scoped = args.ids !== undefined || args.since !== undefined;
          const result = await track(extra, (signal) =>
            service.execute({
              job: args.job,
              trigger: "mcp",
              ...(scoped
                ? {
                    scope: {
                      ...(args.ids !== undefined ? { ids: args.ids } : {}),
                      ...(args.since !== undefined ? { since: args.since } : {}),
                    },
                  }
                : {}),
              options: {
                force: args.force ?? false,
                wait: args.wait_seconds > 0 ? args.wait_seconds : false,
              },
              signal,
            }),
          );
          return {
            content: [text(summary(result))],
            structuredContent: { ...result },
            ...(result.status === "failed" ? { isError: true } : {}),
          };
        } finally {
          off();
        }
      } catch (e) {
        return failure(service, args.job, e);
      }
    },
  );
}

function registerSyncStatus(
  server: McpServer,
  { sync: service, replicas: replicaService }: McpServices,
): void {
  server.registerTool(
    "sync_status",
    {
      description:
        "Per job: checkpoints, item counts, documents, enrichment debts, last run and success, the run in progress, next scheduled run; plus provider and replica circuit breakers.",
      inputSchema: S.syncStatusInput,
      outputSchema: S.syncStatusOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        if (args.job !== undefined) requireJob(service, args.job);
        const jobs = (await service.status(args.job)).map((status) => ({
          ...status,
          running: service.running(status.job) ?? null,
          nextRun: nextRun(service.loaded.config.jobs[status.job]?.schedule, status.lastSuccess),
        }));
        const providers = await service.providerHealth();
        const replicas = await replicaService.status();
        const lines = jobs.map(
          (j) =>
            `${j.job}: ${j.running ? `running ${j.running.phase} ${j.running.percent}%` : "idle"}; last success ${j.lastSuccess ?? "never"}; ${j.documents} documents; ${j.debts} debts; next run ${j.nextRun ?? "unscheduled"}; ` +
            j.phases.map((p) => `${p.name} checkpoint ${p.checkpoint ?? "none"}`).join(", "),
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
        return { content: [text(lines.join("\n"))], structuredContent: { jobs, providers, replicas } };
      } catch (e) {
        return failure(service, args.job, e);
      }
    },
  );
}

function registerRetryFailed(server: McpServer, service: SyncService, track: Track): void {
  server.registerTool(
    "retry_failed",
    {
      description:
        "Requeue FAILED items (include_dead: DEAD ones too) as pending for the next sync_data; pay_debts: run owed enrichment steps now.",
      inputSchema: S.retryFailedInput,
      outputSchema: S.retryFailedOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      try {
        if (args.job !== undefined) requireJob(service, args.job);
        const requeued = await service.retryFailed(args.job, args.include_dead ?? false);
        const lines = [`requeued ${requeued} items`];
        if (!args.pay_debts) return { content: [text(lines[0]!)], structuredContent: { requeued } };
        const debts = [];
        for (const job of args.job === undefined ? service.jobNames() : [args.job]) {
          const paid = await track(extra, (signal) => service.payDebts(job, signal));
          debts.push({ job, ...paid });
          lines.push(`${job}: paid ${paid.paid} debts, ${paid.remaining} remain`);
        }
        return { content: [text(lines.join("\n"))], structuredContent: { requeued, debts } };
      } catch (e) {
        return failure(service, args.job, e);
      }
    },
  );
}

function registerListJobs(server: McpServer, service: SyncService): void {
  server.registerTool(
    "list_jobs",
    {
      description: "The configured sync jobs: name, description, phases in order, schedule.",
      inputSchema: {},
      outputSchema: S.listJobsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () => {
      const jobs = Object.entries(service.loaded.config.jobs).map(([name, j]) => ({
        name,
        description: j.description ?? null,
        phases: j.phases.map((p) => p.name),
        schedule: j.schedule ?? null,
      }));
      const lines = jobs.map(
        (j) => `${j.name}: ${j.phases.join(" → ")}${j.schedule?.every ? `, every ${j.schedule.every}` : ""}`,
      );
      return { content: [text(lines.join("\n") || "no jobs configured")], structuredContent: { jobs } };
    },
  );
}
