import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { registerBreakerActions, registerListBreakers } from "./breaker-tools.js";
import { createLaunches, type McpLaunches } from "./launches.js";
import {
  registerAddMemory,
  registerGetEntity,
  registerGetEpisodes,
  registerSearchMemory,
  registerSyncSessions,
} from "./memory-tools.js";
import { registerDoctor, registerFailedItems, registerHistory, registerSearch } from "./read-tools.js";
import { registerReplicaStatus, registerReplicate } from "./replica-tools.js";
import { registerCancelSync, registerListJobs, registerRetryFailed, registerSyncData } from "./sync-tools.js";
import { registerSyncStatus } from "./status-tools.js";
import type { McpServerOptions, McpServices } from "./tool-kit.js";

export type { McpServerOptions, McpServices } from "./tool-kit.js";
export { createLaunches, type McpLaunches } from "./launches.js";
export { nextRun } from "./status-tools.js";

/**
 * An MCP server over the services: every tool is a thin call into them (DESIGN.md, guarantee 7). Long
 * operations (sync_data, replicate) return at once with an id and run on in `launches`, which every
 * session of one process shares (pass the same set to each server), so any client can follow or cancel them.
 */
export function createMcpServer(
  services: McpServices,
  opts: McpServerOptions & { launches?: McpLaunches } = {},
): McpServer {
  const server = new McpServer(
    { name: "syncwarden", version: opts.version ?? "0.1.0" },
    {
      instructions:
        "Sync jobs of syncwarden: list_jobs, then sync_data (returns a run id at once) and sync_status {run_id} until it ends; search the synced documents; search_memory recalls what past agent sessions learned (get_entity, get_episodes; add_memory remembers a note; sync_sessions indexes new sessions); history, failed_items, doctor, breakers and replicas for operating it.",
    },
  );
  const launches = opts.launches ?? createLaunches(services.sync, opts.inflight);
  registerListJobs(server, services.sync);
  registerSyncData(server, services.sync, launches, opts);
  registerSyncStatus(server, services, launches);
  registerCancelSync(server, services.sync, launches);
  registerRetryFailed(server, services.sync, opts);
  registerSearch(server, services.sync);
  // an agent sees memory tools only where there is a memory to read, and sync_sessions where sessions are read
  if (services.sync.memory.jobs().length > 0) {
    registerSearchMemory(server, services.sync);
    registerGetEntity(server, services.sync);
    registerGetEpisodes(server, services.sync);
    registerAddMemory(server, services.sync, opts);
  }
  if (services.sync.memory.sessionJobs().length > 0)
    registerSyncSessions(server, services.sync, launches, opts);
  registerHistory(server, services.sync);
  registerFailedItems(server, services.sync);
  registerDoctor(server, services, opts.shutdown);
  registerListBreakers(server, services);
  registerBreakerActions(server, services);
  registerReplicaStatus(server, services, launches);
  registerReplicate(server, services, launches, opts);
  return server;
}
