import { randomUUID } from "node:crypto";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { errorMessage, UsageError } from "../errors.js";
import type { EpisodeView, MemoryHit } from "../service/memory.js";
import type { SyncService } from "../service/sync-service.js";
import { within, type McpLaunches } from "./launches.js";
import * as S from "./memory-schemas.js";
import { forwardProgress } from "./progress.js";
import { MAX_WAIT_SECONDS } from "./schemas.js";
import { checkJob, failure, iso, ok, type McpServerOptions } from "./tool-kit.js";

// An agent's memory: what the sessions it (and others) had taught, searched and added to. Each tool is
// one service call.

const episodeLine = (e: EpisodeView): string =>
  `[${e.key}${e.startedAt !== null ? ` ${iso(e.startedAt)}` : ""}${e.extracted ? "" : " raw"}] ${e.snippet}`;

function hitLine(h: MemoryHit): string {
  if (h.kind === "episode") return `episode ${episodeLine(h.episode)}`;
  if (h.kind === "entity")
    return `entity ${h.entity.name} [${h.entity.type}] (id ${h.entity.id}): ${h.entity.description}`;
  const f = h.fact;
  return `fact ${f.subject} ${f.relation} ${f.object}${f.invalidAt !== null ? ` (no longer true since ${iso(f.invalidAt)})` : ""}: ${f.fact}`;
}

/** An ISO time argument as epoch ms, or a UsageError naming the argument. */
function time(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`${name} must be an ISO date or time, got "${value}"`);
  return t;
}

export function registerSearchMemory(server: McpServer, sync: SyncService): void {
  server.registerTool(
    "search_memory",
    {
      description:
        "Recall what past coding-agent sessions learned: episodes (session excerpts with summaries), entities (files, functions, libraries, errors, decisions, people, repositories) and dated facts between them. Keyword, vector and graph search fused. Use it before working on something that may have come up before.",
      inputSchema: S.searchMemoryInput,
      outputSchema: S.searchMemoryOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        checkJob(sync, args.job);
        const found = await sync.memory.search({
          query: args.query,
          kind: args.kind,
          limit: args.limit,
          ...(args.job !== undefined ? { job: args.job } : {}),
        });
        const lines = [...found.hits.map(hitLine), ...found.warnings.map((w) => `warning: ${w}`)];
        return ok(
          { hits: found.hits, ...(found.warnings.length > 0 ? { warnings: found.warnings } : {}) },
          lines.join("\n") || `nothing in memory matches "${args.query}"`,
        );
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}

export function registerGetEntity(server: McpServer, sync: SyncService): void {
  server.registerTool(
    "get_entity",
    {
      description:
        "One entity (by name or id) with its aliases, every fact about it (with when it became true and whether it still holds) and the episodes they came from.",
      inputSchema: S.getEntityInput,
      outputSchema: S.getEntityOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        checkJob(sync, args.job);
        if (args.id === undefined && args.name === undefined)
          throw new UsageError("get_entity needs name or id");
        const found = await sync.memory.entity(
          args.id !== undefined
            ? { id: args.id }
            : {
                name: args.name!,
                ...(args.type !== undefined ? { type: args.type } : {}),
                ...(args.job !== undefined ? { job: args.job } : {}),
              },
        );
        if (!found)
          return ok(
            { entity: null, facts: [], episodes: [] },
            `no entity ${args.name ?? `#${args.id}`} in memory`,
          );
        const e = found.entity;
        const lines = [
          `${e.name} [${e.type}]${e.aliases.length > 0 ? ` aka ${e.aliases.join(", ")}` : ""}: ${e.description}`,
          ...found.facts.map(
            (f) =>
              `fact: ${f.subject} ${f.relation} ${f.object} (${iso(f.validAt)}${f.invalidAt !== null ? ` until ${iso(f.invalidAt)}` : ""})`,
          ),
          ...found.episodes.map((ep) => `episode ${episodeLine(ep)}`),
        ];
        return ok(found, lines);
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}

export function registerGetEpisodes(server: McpServer, sync: SyncService): void {
  server.registerTool(
    "get_episodes",
    {
      description:
        "Episodes (excerpts of agent sessions, with summaries) of one session, or of a time range, newest first.",
      inputSchema: S.getEpisodesInput,
      outputSchema: S.getEpisodesOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        checkJob(sync, args.job);
        const since = time("since", args.since);
        const until = time("until", args.until);
        const episodes = await sync.memory.episodes({
          limit: args.limit,
          ...(args.job !== undefined ? { job: args.job } : {}),
          ...(args.session !== undefined ? { session: args.session } : {}),
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
        });
        return ok({ episodes }, episodes.map(episodeLine).join("\n") || "no episodes");
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}

export function registerAddMemory(server: McpServer, sync: SyncService, opts: McpServerOptions): void {
  server.registerTool(
    "add_memory",
    {
      description:
        "Remember a note (a decision, a fix, a convention) as an episode: its entities and facts are extracted now, or later if the LLM is down (it is searchable by its words at once). The same text twice is stored once.",
      inputSchema: S.addMemoryInput,
      outputSchema: S.addMemoryOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (args, extra) => {
      try {
        checkJob(sync, args.job);
        const out = await sync.memory.addNote(
          {
            text: args.text,
            ...(args.title !== undefined ? { title: args.title } : {}),
            ...(args.session !== undefined ? { session: args.session } : {}),
            ...(args.job !== undefined ? { job: args.job } : {}),
          },
          opts.shutdown ? AbortSignal.any([extra.signal, opts.shutdown]) : extra.signal,
        );
        return ok(
          out,
          `stored ${out.key} in ${out.job}'s memory (${out.degradation})${out.owed.length > 0 ? `; extraction owed: ${out.owed.join("; ")}` : ""}`,
        );
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}

export function registerSyncSessions(
  server: McpServer,
  sync: SyncService,
  launches: McpLaunches,
  opts: McpServerOptions,
): void {
  server.registerTool(
    "sync_sessions",
    {
      description:
        "Index new agent sessions now (every job with a sessions source, or one). Returns at once with each run's id and its expected degradation (raw_only while the LLM is down: sessions are stored raw and extracted later); follow with sync_status {run_id}.",
      inputSchema: S.syncSessionsInput,
      outputSchema: S.syncSessionsOutput,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      try {
        const jobs = sync.memory.sessionJobs();
        if (args.job !== undefined && !jobs.includes(args.job))
          throw new UsageError(
            `"${args.job}" is not a job with a sessions source; sessions jobs: ${jobs.join(", ") || "(none)"}`,
          );
        const selected = args.job !== undefined ? [args.job] : jobs;
        if (selected.length === 0)
          throw new UsageError("no job has a sessions source: add `source: { type: sessions }` to a phase");
        const started = [];
        const offs: (() => void)[] = [];
        try {
          for (const job of selected) {
            const runId = randomUUID();
            if (args.wait) offs.push(forwardProgress(sync, runId, extra));
            const { degradation } = await sync.memory.forecast(job);
            const launch = launches.runs.start(runId, job, opts.shutdown, (signal) =>
              sync.execute({ job, runId, trigger: "mcp", options: { wait: false }, signal }),
            );
            started.push({ launch, degradation });
          }
          const all = Promise.all(started.map((s) => s.launch.settled)).then(() => undefined);
          if (args.wait) await within(all, MAX_WAIT_SECONDS * 1000, extra.signal);
          else
            await within(
              Promise.all(started.map((s) => s.launch.begun)).then(() => undefined),
              5000,
              extra.signal,
            );
        } finally {
          for (const off of offs) off();
        }
        const runs = started.map(({ launch, degradation }) => ({
          runId: launch.id,
          job: launch.name,
          status: launch.result?.status ?? (launch.state === "ended" ? "failed" : launch.state),
          degradation: launch.result?.degradation ?? degradation,
          ...(launch.result ? { result: launch.result } : {}),
          ...(launch.state === "ended" && !launch.result ? { error: errorMessage(launch.error) } : {}),
        }));
        return ok(
          { runs },
          runs.map(
            (r) =>
              `${r.job}: run ${r.runId} ${r.status} (${r.degradation}); sync_status {"run_id": "${r.runId}"} reports its progress and result`,
          ),
        );
      } catch (e) {
        return failure(sync, args.job, e);
      }
    },
  );
}
