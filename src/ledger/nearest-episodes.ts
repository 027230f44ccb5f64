import type { DocumentStore } from "./document-store.js";
import type { EpisodeRecord, KnowledgeFilter } from "./knowledge.js";
import type { SearchHit } from "./types.js";

/**
 * Episodes among the documents nearest to `vector` (the documents' own vector index): other documents
 * (code, notes) may come first, so it asks for more neighbours until `limit` episodes are found or no
 * vector is left.
 */
export async function nearestEpisodes(
  documents: DocumentStore,
  vector: readonly number[],
  filter: KnowledgeFilter,
  episodesOf: (hits: readonly SearchHit[]) => Promise<EpisodeRecord[]>,
): Promise<EpisodeRecord[]> {
  const total = await documents.countVectors(filter.job);
  for (let k = Math.max(filter.limit * 4, 20); ; k *= 4) {
    const hits = await documents.semanticSearch(vector, {
      ...(filter.job === undefined ? {} : { job: filter.job }),
      limit: k,
    });
    const found = await episodesOf(hits);
    if (found.length >= filter.limit || hits.length < k || k >= total) return found.slice(0, filter.limit);
  }
}
