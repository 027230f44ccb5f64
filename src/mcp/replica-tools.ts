import { randomUUID } from "node:crypto";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { errorMessage, UsageError } from "../errors.js";
import type { ReplicaResult, TargetReport } from "../service/replica-service.js";
import { within, type Launch, type McpLaunches } from "./launches.js";
import * as S from "./schemas.js";
import { failure, ok, type McpServerOptions, type McpServices } from "./tool-kit.js";

const reportLine = (r: TargetReport): string =>
  `${r.replica}/${r.target}: ${r.status}${r.message ? ` (${r.message})` : ""}, ${r.copied} copied, ${r.deleted} deleted, ${r.conflicts.length} conflicts, ${r.errors.length} errors`;

function replication(l: Launch<ReplicaResult>) {
  return {
    id: l.id,
    state: l.state,
    startedAt: l.startedAt,
    endedAt: l.endedAt,
    targets: l.result?.targets ?? null,
    ...(l.state === "ended" && !l.result ? { error: errorMessage(l.error) } : {}),
  };
}

function answer(services: McpServices, l: Launch<ReplicaResult>): CallToolResult {
  if (l.state === "ended" && !l.result) return failure(services.sync, undefined, l.error);
  const r = replication(l);
  const lines = r.targets?.map(reportLine) ?? [
    `replication ${l.id} is running; replica_status {"id": "${l.id}"} reports its result`,
  ];
  return ok({ id: r.id, state: r.state === "ended" ? "ended" : "running", targets: r.targets }, lines);
}

export function registerReplicate(
  server: McpServer,
  services: McpServices,
  launches: McpLaunches,
  opts: McpServerOptions,
): void {
  server.registerTool(
    "replicate",
    {
      description:
        "Replicate folders to their targets, three-way (as `syncwarden replicate`). Returns at once with an id (follow it with replica_status); wait: true waits up to wait_seconds (≤ 50) for the per-target reports.",
      inputSchema: S.replicateInput,
      outputSchema: S.replicateOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
    },
    async (args, extra) => {
      const { replicas } = services;
      try {
        if (replicas.targets().length === 0)
          throw new UsageError("no replicas are configured (replicas: in the config file)");
        const l = launches.replications.start(randomUUID(), args.replica ?? "*", opts.shutdown, (signal) =>
          replicas.replicate({
            ...(args.replica !== undefined ? { replica: args.replica } : {}),
            ...(args.target !== undefined ? { target: args.target } : {}),
            ...(args.direction !== undefined ? { direction: args.direction } : {}),
            ...(args.conflict !== undefined ? { conflict: args.conflict } : {}),
            dryRun: args.dry_run ?? false,
            force: args.force ?? false,
            signal,
          }),
        );
        launches.replications.markRunning(l.id);
        // a wrong replica name fails at once: answer it rather than an id
        await within(l.settled, args.wait ? args.wait_seconds * 1000 : 200, extra.signal);
        return answer(services, l);
      } catch (e) {
        return failure(services.sync, undefined, e);
      }
    },
  );
}

export function registerReplicaStatus(server: McpServer, services: McpServices, launches: McpLaunches): void {
  server.registerTool(
    "replica_status",
    {
      description:
        "Every replica target (path, direction, breaker, last success), and the replications this server started (running, or ended with their per-target reports); id: only that one.",
      inputSchema: S.replicaStatusInput,
      outputSchema: S.replicaStatusOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const targets = await services.replicas.status();
        const chosen =
          args.id === undefined ? launches.replications.list() : [launches.replications.get(args.id)];
        if (chosen[0] === undefined && args.id !== undefined)
          throw new UsageError(`unknown replication "${args.id}" (this server keeps the newest 100)`);
        const replications = chosen.flatMap((l) => (l ? [replication(l)] : []));
        const lines = [
          ...targets.map(
            (t) =>
              `${t.name} → ${t.path} (${t.direction}): breaker ${t.breaker.state}, last success ${t.lastSuccess ?? "never"}`,
          ),
          ...replications.map(
            (r) =>
              `replication ${r.id}: ${r.state}` +
              (r.targets ? `; ${r.targets.map(reportLine).join("; ")}` : "") +
              ("error" in r ? `: ${r.error}` : ""),
          ),
        ];
        return ok({ targets, replications }, lines.join("\n") || "no replicas configured");
      } catch (e) {
        return failure(services.sync, undefined, e);
      }
    },
  );
}
