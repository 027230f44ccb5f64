import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { itemView } from "../service/item-view.js";
import { placeOf } from "../service/search.js";
import type { SyncService } from "../service/sync-service.js";
import * as S from "./schemas.js";
import { checkJob, failure, iso, ok, type McpServices } from "./tool-kit.js";

// The reads an operator makes: search, history, failed items, doctor. Each is one service call.

export function registerSearch(server: McpServer, sync: SyncService): void {
  server.registerTool(
    "search",
    {
      description:
        "Full-text search over the synced documents (every word must match; bm25-ranked, one hit per document with a [snippet] and, for a file, the path, line and symbol of its best-matching chunk); semantic: rank by embeddings.",
      inputSchema: S.searchInput,
      outputSchema: S.searchOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        checkJob(sync, args.job);
        const found = await sync.search(args.query, {
          limit: args.limit,
          ...(args.job !== undefined ? { job: args.job } : {}),
          ...(args.semantic !== undefined ? { semantic: args.semantic } : {}),
          ...(args.hybrid !== undefined ? { hybrid: args.hybrid } : {}),
        });
        if ("note" in found) return ok({ hits: [], note: found.note }, found.note);
        const lines = found.hits.map((h) => `${h.job}/${placeOf(h)}: ${h.snippet}`);
        return ok(
          { hits: found.hits, ...(found.warnings ? { warnings: found.warnings } : {}) },
          lines.join("\n") || `no documents match "${args.query}"`,
        );
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}

export function registerHistory(server: McpServer, sync: SyncService): void {
  server.registerTool(
    "history",
    {
      description: "Past runs, newest first: trigger, status, start and finish, and each run's SyncResult.",
      inputSchema: S.historyInput,
      outputSchema: S.historyOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        checkJob(sync, args.job);
        const runs = (await sync.history(args.job, args.limit)).map((r) => ({
          runId: r.id,
          job: r.job,
          trigger: r.trigger,
          status: r.status,
          startedAt: iso(r.startedAt),
          finishedAt: iso(r.finishedAt),
          result: r.result ?? null,
        }));
        const lines = runs.map(
          (r) => `${r.startedAt ?? ""} ${r.job} ${r.status ?? "running"} (${r.trigger}) ${r.runId}`,
        );
        return ok({ runs }, lines.join("\n") || "no runs yet");
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}

export function registerFailedItems(server: McpServer, sync: SyncService): void {
  server.registerTool(
    "failed_items",
    {
      description:
        "FAILED and DEAD items with their error class (transient, rate_limited, unavailable, permanent, config), message, attempts and reason; requeue them with retry_failed.",
      inputSchema: S.failedItemsInput,
      outputSchema: S.failedItemsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        checkJob(sync, args.job);
        const items = [];
        let total = 0;
        for await (const r of sync.failed(args.job)) {
          total++;
          if (items.length < args.limit) items.push(itemView(r));
        }
        const lines = items.map(
          (r) =>
            `${r.status} ${r.job}/${r.phase} ${r.key} ${r.errorClass ?? "-"} attempts=${r.attempts} ${r.error ?? ""}`,
        );
        if (total > items.length) lines.push(`… ${total - items.length} more (raise limit)`);
        return ok({ items, total }, lines.join("\n") || "no failed or dead items");
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}

export function registerDoctor(
  server: McpServer,
  { sync, health }: McpServices,
  shutdown?: AbortSignal,
): void {
  server.registerTool(
    "doctor",
    {
      description:
        "Health checks of the state (integrity, leases, locks, backlog, breakers, disk, replicas, overdue jobs); repair: make the repairs doctor --repair makes, except starting overdue syncs (use sync_data).",
      inputSchema: S.doctorInput,
      outputSchema: S.doctorOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    },
    async (args, extra) => {
      try {
        const report = await health.run({
          repair: args.repair ?? false,
          thorough: args.thorough ?? false,
          startSyncs: false,
          signal: shutdown ? AbortSignal.any([extra.signal, shutdown]) : extra.signal,
        });
        const lines = [
          ...report.repairs.map((r) => `repair ${r.name}: ${r.ok ? "ok" : "failed"}: ${r.message}`),
          ...report.checks.map((c) => `${c.status} ${c.name}: ${c.message}`),
        ];
        return ok({ ...report }, lines);
      } catch (e) {
        return failure(sync, undefined, e);
      }
    },
  );
}
