import type { LoadedConfig } from "../config/load-config.js";
import { OpenAiEmbeddings } from "../connectors/enrichers/openai-embeddings.js";
import { buildSink } from "../connectors/build-connectors.js";
import type { ConnectorContext } from "../connectors/types.js";
import type { EmbeddingsEnrichConfig } from "../config/steps-schema.js";
import type { DocumentStore } from "../ledger/document-store.js";
import type { SearchHit } from "../ledger/types.js";
import { fuseRanks } from "./rank-fusion.js";

export interface SearchOptions {
  job?: string;
  limit: number;
  semantic?: boolean;
  /** bm25 and vector KNN fused by reciprocal rank (implies the embedding step --semantic needs). */
  hybrid?: boolean;
}

/** What a search found, or a sentence saying why it could not search (no vectors, no embedding step). */
export type SearchOutcome = { hits: SearchHit[]; warnings?: string[] } | { note: string };

/** Where a hit is, as a person reads it: `path:line symbol` for a file cut by lines, else the document's key. */
export function placeOf(h: SearchHit): string {
  if (h.line === undefined) return h.key;
  return `${h.path ?? h.key}:${h.line}${h.symbol ? ` ${h.symbol}` : ""}`;
}

/** How deep each list goes before hybrid fusion: fusion needs more than the top `limit` of each. */
const hybridDepth = (limit: number): number => Math.max(limit * 5, 50);

const hitId = (h: SearchHit): string => `${h.job}\u0000${h.collection}\u0000${h.key}`;

type Context = (job: string, phase: string) => Omit<ConnectorContext, "signal">;

/**
 * The document stores to search, each once: the one embedded in the ledger (every sink's document writes
 * commit into it with their items), and any a sink of the jobs offers of its own.
 */
async function documentStores(
  loaded: LoadedConfig,
  job: string | undefined,
  context: Context,
  embedded: DocumentStore | undefined,
): Promise<DocumentStore[]> {
  const stores = new Set<DocumentStore>(embedded ? [embedded] : []);
  for (const [name, config] of Object.entries(loaded.config.jobs)) {
    if (job !== undefined && name !== job) continue;
    for (const phase of config.phases) {
      const sink = await buildSink(phase, context(name, phase.name));
      if (sink.documents) stores.add(sink.documents);
      await sink.close?.();
    }
  }
  return [...stores];
}

const best = (hits: SearchHit[], semantic: boolean, limit: number): SearchHit[] =>
  hits.sort((a, b) => (semantic ? b.score - a.score : a.score - b.score)).slice(0, limit);

/** The first openai-embeddings step (of the job, or of any job), with the job and phase it belongs to. */
function embeddingStep(
  loaded: LoadedConfig,
  job: string | undefined,
): { job: string; phase: string; step: EmbeddingsEnrichConfig } | undefined {
  for (const [name, config] of Object.entries(loaded.config.jobs)) {
    if (job !== undefined && name !== job) continue;
    for (const phase of config.phases) {
      const step = phase.enrich.find((e) => e.type === "openai-embeddings");
      if (step?.type === "openai-embeddings") return { job: name, phase: phase.name, step };
    }
  }
  return undefined;
}

/** Embeds a query as the first openai-embeddings step found embeds documents; undefined when no job embeds. */
export function queryEmbedder(
  loaded: LoadedConfig,
  job: string | undefined,
  context: Context,
): ((text: string) => Promise<number[]>) | undefined {
  const found = embeddingStep(loaded, job);
  if (!found) return undefined;
  return (text) =>
    new OpenAiEmbeddings(found.step).embed(text, {
      ...context(found.job, found.phase),
      signal: new AbortController().signal,
    });
}

/** Keyword search over every document store a sink offers (bm25: lower is better). */
export async function searchDocuments(
  loaded: LoadedConfig,
  query: string,
  o: SearchOptions,
  context: Context,
  embedded: DocumentStore | undefined,
): Promise<SearchOutcome> {
  const filter = { ...(o.job ? { job: o.job } : {}), limit: o.limit };
  const stores = await documentStores(loaded, o.job, context, embedded);
  if (!o.semantic && !o.hybrid) {
    const hits = (await Promise.all(stores.map((s) => s.search(query, filter)))).flat();
    return { hits: best(hits, false, o.limit) };
  }
  // the query is embedded with the first openai-embeddings step found (of the job, or of any job)
  const found = embeddingStep(loaded, o.job);
  const embed = queryEmbedder(loaded, o.job, context);
  if (found && embed) {
    const vectors = (await Promise.all(stores.map((s) => s.countVectors(o.job)))).reduce((a, b) => a + b, 0);
    if (vectors === 0)
      return {
        note: `no vectors are stored${o.job ? ` for ${o.job}` : ""} yet: run the job (its ${found.step.provider} provider must answer), or pay debts with \`syncwarden retry --debts\`; keyword search works without --semantic`,
      };
    const vector = await embed(query);
    const warnings = stores.flatMap((s) => s.vectorSearchWarning?.() ?? []);
    const depth = o.hybrid ? { ...filter, limit: hybridDepth(o.limit) } : filter;
    const near = (await Promise.all(stores.map((s) => s.semanticSearch(vector, depth)))).flat();
    if (!o.hybrid) return { hits: best(near, true, o.limit), ...(warnings.length ? { warnings } : {}) };
    const words = (await Promise.all(stores.map((s) => s.search(query, depth)))).flat();
    const fused = fuseRanks([best(words, false, depth.limit), best(near, true, depth.limit)], hitId);
    // a document found by its words shows that hit's snippet and place (`path:line symbol`)
    const hits = fused.slice(0, o.limit).map(({ item, score }) => ({
      ...item,
      ...words.find((w) => hitId(w) === hitId(item)),
      score,
    }));
    return { hits, ...(warnings.length ? { warnings } : {}) };
  }
  return {
    note: `no job${o.job ? ` named ${o.job}` : ""} has an openai-embeddings enrich step, so there are no vectors to rank; search without --semantic`,
  };
}
