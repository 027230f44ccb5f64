import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import { redact, redactJson } from "../config/secrets.js";
import { errorMessage, isLockedError, UsageError } from "../errors.js";
import type { HealthService } from "../service/health-service.js";
import type { ReplicaService } from "../service/replica-service.js";
import type { SyncService } from "../service/sync-service.js";

/** What a tool handler is given besides its arguments (the request's signal, its progress token). */
export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export const text = (t: string): CallToolResult["content"][number] => ({ type: "text", text: t });

/** A structured result with its text rendering (for clients that read only `content`); secrets scrubbed from both. */
export function ok(structured: object, lines: string[] | string, isError = false): CallToolResult {
  return {
    content: [text(redact(typeof lines === "string" ? lines : lines.join("\n")))],
    structuredContent: JSON.parse(redactJson(structured)) as Record<string, unknown>,
    ...(isError ? { isError: true } : {}),
  };
}

/** The one sentence a model can act on, as an isError result. */
export function failure(service: SyncService, job: string | undefined, e: unknown): CallToolResult {
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

/** Throws the UsageError naming the configured jobs when `job` is set and not one of them. */
export function checkJob(service: SyncService, job: string | undefined): void {
  if (job !== undefined && !(job in service.loaded.config.jobs))
    throw new UsageError(`unknown job "${job}"; valid jobs: ${service.jobNames().join(", ") || "(none)"}`);
}

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export interface McpServerOptions {
  version?: string;
  /** Aborted on shutdown: stops every run this server started (the ledger stays resumable). */
  shutdown?: AbortSignal;
  /** Each run, replication or debt payment is held here until it settles, so the caller can await them before closing the services. */
  inflight?: Set<Promise<unknown>>;
}

/** What the tools call: the services, nothing below them. */
export interface McpServices {
  sync: SyncService;
  replicas: ReplicaService;
  health: HealthService;
}
