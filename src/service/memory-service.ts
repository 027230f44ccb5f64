import type { LoadedConfig } from "../config/load-config.js";
import type { JobConfig } from "../config/schema.js";
import type { ConnectorContext } from "../connectors/types.js";
import { UsageError } from "../errors.js";
import type { EntityRecord, FactRecord, KnowledgeStats } from "../ledger/knowledge.js";
import type { Ledger } from "../ledger/ledger.js";
import { forecastDegradation, type Forecast } from "./forecast.js";
import {
  addNote,
  memoryEntity,
  memoryEpisodes,
  searchMemory,
  type EpisodeView,
  type MemoryDeps,
  type MemoryHit,
  type MemoryQuery,
  type NoteOutcome,
} from "./memory.js";
import { queryEmbedder } from "./search.js";
import { markSessionEnded, type SessionHookInput, type SessionMarked } from "./session-hook.js";
import type { ProviderHealth } from "./status.js";

/** What the memory service asks of the SyncService it sits beside. */
export interface MemoryHost {
  jobNames(): string[];
  job(name: string): JobConfig;
  connectorContext(job: string, phase: string): Omit<ConnectorContext, "signal">;
  providerHealth(): Promise<ProviderHealth[]>;
}

/** Agent memory (`syncwarden memory`, the MCP memory tools): episodes, entities and facts of the memory jobs. */
export class MemoryService {
  constructor(
    private readonly loaded: LoadedConfig,
    private readonly ledger: Ledger,
    private readonly host: MemoryHost,
  ) {}

  /** Jobs with a memory sink (episodes, entities, facts): what the memory tools read and add to. */
  jobs(): string[] {
    return this.host.jobNames().filter((j) => this.host.job(j).phases.some((p) => p.sink.type === "memory"));
  }

  /** Jobs that read agent sessions (a phase with a `sessions` source): what sync_sessions runs. */
  sessionJobs(): string[] {
    return this.host
      .jobNames()
      .filter((j) => this.host.job(j).phases.some((p) => p.source.type === "sessions"));
  }

  /** A coding agent's hook says a transcript is finished (`sessions hook`): its sessions source emits its open turns. */
  markSessionEnded(input: SessionHookInput, job?: string): Promise<SessionMarked> {
    return markSessionEnded(this.ledger.meta, this.loaded, input, job);
  }

  /** What a run of the job would store if it started now: raw only while a degradable step's breaker is open. */
  async forecast(job: string): Promise<Forecast> {
    return forecastDegradation(this.host.job(job), await this.host.providerHealth());
  }

  /** Keyword, vector and graph search over episodes, entities and facts, fused by reciprocal rank. */
  search(q: MemoryQuery): Promise<{ hits: MemoryHit[]; warnings: string[] }> {
    return searchMemory(this.deps(q.job), q);
  }

  /** An entity (by id, or by name and type) with its facts and source episodes. */
  entity(
    ref: { id: number } | { name: string; type?: string; job?: string },
  ): Promise<{ entity: EntityRecord; facts: FactRecord[]; episodes: EpisodeView[] } | undefined> {
    return memoryEntity(this.deps("job" in ref ? ref.job : undefined), ref);
  }

  /** Episodes by session or time range (epoch ms), newest first. */
  episodes(filter: {
    job?: string;
    session?: string;
    since?: number;
    until?: number;
    limit: number;
  }): Promise<EpisodeView[]> {
    return memoryEpisodes(this.deps(filter.job), filter);
  }

  /** Episodes, entities, facts and the tokens spent extracting them (of a job, or all). */
  stats(job?: string): Promise<KnowledgeStats> {
    return this.deps(job).knowledge.stats(job);
  }

  /** An agent's note, stored as an episode of the memory phase and extracted at once when the LLM answers. */
  addNote(
    note: { text: string; job?: string; session?: string; title?: string },
    signal: AbortSignal = new AbortController().signal,
  ): Promise<NoteOutcome> {
    const documents = this.ledger.documents;
    if (!documents) throw new UsageError(`the ledger at ${this.ledger.location} has no document store`);
    return addNote(
      this.loaded,
      { documents, context: (j, p) => this.host.connectorContext(j, p) },
      note,
      signal,
    );
  }

  /** What memory reads: the knowledge store (a UsageError when this ledger has none), and the query's embedder. */
  private deps(job: string | undefined): MemoryDeps {
    if (job !== undefined) this.host.job(job);
    const knowledge = this.ledger.knowledge;
    if (!knowledge) throw new UsageError(`the ledger at ${this.ledger.location} has no knowledge store`);
    const embed = queryEmbedder(this.loaded, job, (j, p) => this.host.connectorContext(j, p));
    return { knowledge, documents: this.ledger.documents, ...(embed ? { embed } : {}) };
  }
}
