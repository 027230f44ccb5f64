import type { DebtChanges, DocumentWrite, SearchHit } from "./types.js";

/**
 * Documents a sink stores, as `search` reads them: a capability a sink may offer, not part of the core
 * ledger. The embedded one (sqlite-docs) lives in the ledger's own database, so an item's completion and
 * its document commit in one transaction (its writes travel in the item's settlement).
 */
export interface DocumentStore {
  count(filter: { job?: string; collection?: string }): Promise<number>;
  /** Keyword search (every word must match), best first, one hit per document with a snippet. */
  search(query: string, filter: { job?: string; limit: number }): Promise<SearchHit[]>;
  get(
    job: string,
    collection: string,
    key: string,
  ): Promise<{ version: string; content: string } | undefined>;
  countVectors(job: string | undefined): Promise<number>;
  /** Documents with vectors, ranked by cosine similarity to `vector`. */
  semanticSearch(vector: readonly number[], filter: { job?: string; limit: number }): Promise<SearchHit[]>;
  /** Why semantic search is a linear scan rather than an index lookup, if it is. */
  vectorSearchWarning?(): string | undefined;
  /**
   * Applies writes outside an item settlement (paying an enrichment debt, an agent's note), in one
   * transaction with the debt they pay or the debts they leave.
   */
  write(writes: readonly DocumentWrite[], debts?: DebtChanges): Promise<void>;
}
