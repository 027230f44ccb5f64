import { createHash } from "node:crypto";
import type { LoadedConfig } from "../config/load-config.js";
import type { PhaseConfig } from "../config/schema.js";
import { redact } from "../config/secrets.js";
import { buildConnectors, closeConnectors } from "../connectors/build-connectors.js";
import type { ConnectorContext, Doc } from "../connectors/types.js";
import { errorMessage, UsageError } from "../errors.js";
import type { DocumentStore } from "../ledger/document-store.js";
import { normaliseName } from "../ledger/entity-name.js";
import type { EntityRecord, EpisodeRecord, FactRecord, KnowledgeStore } from "../ledger/knowledge.js";
import type { NewDebt } from "../ledger/types.js";
import { fuseRanks } from "./rank-fusion.js";

export type { EntityRecord, FactRecord } from "../ledger/knowledge.js";

export type MemoryKind = "episodes" | "entities" | "facts" | "all";

/** An episode as a reader sees it: its record and a snippet (the summary, or the start of its text while raw). */
export interface EpisodeView extends EpisodeRecord {
  snippet: string;
}

/** One hit of a memory search: an episode, an entity or a fact, with how it was found. */
export type MemoryHit = { score: number; via: ("keyword" | "vector" | "graph")[] } & (
  | { kind: "episode"; episode: EpisodeView }
  | { kind: "entity"; entity: EntityRecord }
  | { kind: "fact"; fact: FactRecord }
);

export interface MemoryQuery {
  query: string;
  kind: MemoryKind;
  limit: number;
  job?: string;
  /** How far graph search walks from the entities the words found (default 2). */
  hops?: number;
}

/** What memory reads: the ledger's knowledge and document stores, and an embedder for the query when a job has one. */
export interface MemoryDeps {
  knowledge: KnowledgeStore;
  documents: DocumentStore | undefined;
  embed?: (text: string) => Promise<number[]>;
}

const SNIPPET = 240;
/** Entities the words found that graph search starts from. */
const SEEDS = 5;
/** Words of a query looked up one by one as entity names. */
const MAX_WORDS = 6;

const episodeId = (e: EpisodeRecord): string => `episode\u0000${e.job}\u0000${e.collection}\u0000${e.key}`;
type Ranked = { id: string; hit: MemoryHit };

/** An episode with its snippet: the summary once extracted, else the start of its text. */
export async function episodeView(docs: DocumentStore | undefined, e: EpisodeRecord): Promise<EpisodeView> {
  if (e.summary) return { ...e, snippet: e.summary };
  const text = (await docs?.get(e.job, e.collection, e.key))?.content ?? "";
  return { ...e, snippet: text.replace(/\s+/g, " ").trim().slice(0, SNIPPET) };
}

/**
 * Keyword (bm25), vector (the episodes' embeddings, when a job embeds) and graph (entities within `hops` facts
 * of those the words found, the facts that reach them, the episodes that mention them) search over the
 * knowledge store, fused by reciprocal rank into one list, best first; entities the query names exactly lead.
 */
export async function searchMemory(
  deps: MemoryDeps,
  q: MemoryQuery,
): Promise<{ hits: MemoryHit[]; warnings: string[] }> {
  const { knowledge: k } = deps;
  const depth = Math.max(q.limit * 5, 50);
  const filter = { ...(q.job !== undefined ? { job: q.job } : {}), limit: depth };
  const want = (kind: MemoryKind): boolean => q.kind === "all" || q.kind === kind;
  const lists: Ranked[][] = [];
  const warnings: string[] = [];
  const via = new Map<string, Set<"keyword" | "vector" | "graph">>();
  const add = (how: "keyword" | "vector" | "graph", list: Ranked[]): void => {
    for (const r of list) via.set(r.id, (via.get(r.id) ?? new Set()).add(how));
    if (list.length > 0) lists.push(list);
  };
  const episodes = async (es: EpisodeRecord[]): Promise<Ranked[]> =>
    Promise.all(
      es.map(async (e) => ({
        id: episodeId(e),
        hit: { kind: "episode", episode: await episodeView(deps.documents, e), score: 0, via: [] },
      })),
    );
  const entities = (es: EntityRecord[]): Ranked[] =>
    es.map((entity) => ({
      id: `entity\u0000${entity.id}`,
      hit: { kind: "entity", entity, score: 0, via: [] },
    }));
  const facts = (fs: FactRecord[]): Ranked[] =>
    fs.map((fact) => ({ id: `fact\u0000${fact.id}`, hit: { kind: "fact", fact, score: 0, via: [] } }));

  // entities are short: besides the whole query, each of its words names one (`src/auth.ts zod`)
  const words = [...new Set(q.query.split(/\s+/).filter((w) => w !== ""))].slice(0, MAX_WORDS);
  const named = await Promise.all(
    [q.query, ...(words.length > 1 ? words : [])].map((w) => k.searchEntities(w, filter)),
  );
  const seeds = [...new Map(named.flat().map((e) => [e.id, e])).values()];
  if (want("entities")) for (const list of named) add("keyword", entities(list));
  if (want("facts")) add("keyword", facts(await k.searchFacts(q.query, filter)));
  if (want("episodes")) {
    add("keyword", await episodes(await k.searchEpisodes(q.query, filter)));
    if (deps.embed) {
      try {
        add("vector", await episodes(await k.semanticEpisodes(await deps.embed(q.query), filter)));
      } catch (e) {
        warnings.push(`vector search skipped: ${redact(errorMessage(e))}`);
      }
    }
  }
  // graph: walk from the entities the words found
  const start = seeds.slice(0, SEEDS);
  if (start.length > 0) {
    const near = await k.neighbours(
      start.map((s) => s.id),
      q.hops ?? 2,
      depth,
    );
    if (want("entities")) add("graph", entities(near.map((n) => n.entity)));
    if (want("facts")) {
      const seen = new Set<number>();
      add("graph", facts(near.map((n) => n.via).filter((f) => !seen.has(f.id) && seen.add(f.id))));
    }
    if (want("episodes")) {
      const mentioned = (await Promise.all(start.map((s) => k.entity({ id: s.id })))).flatMap(
        (d) => d?.episodes ?? [],
      );
      add("graph", await episodes(mentioned));
    }
  }
  // an entity named exactly by the query (or one of its words) is what the asker means: it leads
  const names = new Set([q.query, ...words].map(normaliseName));
  const exact = (r: Ranked): boolean =>
    r.hit.kind === "entity" && names.has(normaliseName(r.hit.entity.name));
  const fused = fuseRanks(lists, (r) => r.id);
  const hits = [...fused.filter((f) => exact(f.item)), ...fused.filter((f) => !exact(f.item))]
    .slice(0, q.limit)
    .map(({ item, score }) => ({ ...item.hit, score, via: [...(via.get(item.id) ?? [])] }));
  return { hits, warnings };
}

/** An entity (by id, or by name and optional type) with its facts and the episodes they came from. */
export async function memoryEntity(
  deps: MemoryDeps,
  ref: { id: number } | { name: string; type?: string; job?: string },
): Promise<{ entity: EntityRecord; facts: FactRecord[]; episodes: EpisodeView[] } | undefined> {
  const found = await deps.knowledge.entity(ref);
  if (!found) return undefined;
  const episodes = await Promise.all(found.episodes.map((e) => episodeView(deps.documents, e)));
  return { ...found, episodes };
}

/** Episodes by session or time range, newest first. */
export async function memoryEpisodes(
  deps: MemoryDeps,
  filter: { job?: string; session?: string; since?: number; until?: number; limit: number },
): Promise<EpisodeView[]> {
  const es = await deps.knowledge.episodes(filter);
  return Promise.all(es.map((e) => episodeView(deps.documents, e)));
}

/** A job's phase whose sink is `memory` (the named job's, or the first job's that has one). */
export function memoryPhase(
  loaded: LoadedConfig,
  job: string | undefined,
): { job: string; phase: PhaseConfig } {
  for (const [name, config] of Object.entries(loaded.config.jobs)) {
    if (job !== undefined && name !== job) continue;
    const phase = config.phases.find((p) => p.sink.type === "memory");
    if (phase) return { job: name, phase };
  }
  throw new UsageError(
    job === undefined
      ? "no job has a phase with a memory sink: add `sink: { type: memory }` to a phase (see the README's Agent memory section)"
      : `job "${job}" has no phase with a memory sink`,
  );
}

export interface NoteOutcome {
  job: string;
  key: string;
  /** full: every enrich step ran; raw_only: stored raw, the steps are owed (the next run pays them). */
  degradation: "full" | "raw_only";
  owed: string[];
}

/** What adding a note needs: where to write, and how to record what is owed. */
export interface NoteDeps {
  documents: DocumentStore;
  context: (job: string, phase: string) => Omit<ConnectorContext, "signal">;
}

/**
 * An agent's note as an episode of the memory phase: the phase's enrich steps run on it at once (an LLM
 * extracts its entities and facts); a step whose provider is down leaves it raw, searchable by its words,
 * with the step owed, paid by the next run or `retry --debts`. The same text twice is the same episode.
 */
export async function addNote(
  loaded: LoadedConfig,
  deps: NoteDeps,
  note: { text: string; job?: string; session?: string; title?: string },
  signal: AbortSignal,
): Promise<NoteOutcome> {
  const text = note.text.trim();
  if (text === "") throw new UsageError("add_memory needs a non-empty text");
  const { job, phase } = memoryPhase(loaded, note.job);
  const hash = createHash("sha256").update(text).digest("hex");
  const ctx = { ...deps.context(job, phase.name), signal };
  let doc: Doc = {
    key: `note:${hash.slice(0, 16)}`,
    version: hash.slice(0, 16),
    content: note.title ? `# ${note.title}\n\n${text}` : text,
    metadata: {
      format: "note",
      file: "note",
      started_at: new Date().toISOString(),
      ...(note.session ? { session: note.session } : {}),
      ...(note.title ? { title: note.title } : {}),
    },
  };
  const c = await buildConnectors(phase, ctx);
  try {
    const owed: NewDebt[] = [];
    for (const [i, e] of c.enrich.entries()) {
      try {
        doc = await e.step.enrich(doc, ctx);
      } catch (err) {
        if (signal.aborted) throw err;
        owed.push({ step: i, provider: e.provider, reason: redact(errorMessage(err)).slice(0, 500) });
      }
    }
    const writes = (await c.sink.apply({ kind: "upsert", ...doc }, ctx)) ?? [];
    await deps.documents.write(writes, {
      owe: owed.map((d) => ({ ...d, job, phase: phase.name, key: doc.key, version: doc.version })),
    });
    return {
      job,
      key: doc.key,
      degradation: owed.length > 0 ? "raw_only" : "full",
      owed: owed.map((d) => `${phase.enrich[d.step]?.type ?? d.step}: ${d.reason}`),
    };
  } finally {
    await closeConnectors(c);
  }
}
