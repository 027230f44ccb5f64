/**
 * The knowledge store's vocabulary: what an LLM extracts from an episode of an agent session (entities and
 * dated facts between them), and how it is read back. Episodes are documents of the document store (their
 * text is searchable at once, raw or not); the knowledge store keeps, per episode, what was extracted from it.
 */

/** A thing an episode mentions: a file, a function, a library, an error, a decision, a person, a repository. */
export interface ExtractedEntity {
  name: string;
  /** Lower-case kind: file, function, library, error, decision, person, repository, command, concept, ... */
  type: string;
  description: string;
}

/** A dated relation between two entities, named by their `name`s in the same extraction. */
export interface ExtractedFact {
  subject: string;
  relation: string;
  object: string;
  /** A sentence stating the fact, as a person reads it. */
  fact: string;
  /** When it became true (ISO 8601), or null: the episode's time. */
  valid_at: string | null;
  /**
   * The subject has one object at a time for this relation (a status, a version, a decision): a newer
   * fact of the same subject and relation invalidates older ones with another object.
   */
  exclusive: boolean;
}

/** What `llm-extract` made of one episode. */
export interface Extraction {
  summary: string;
  entities: ExtractedEntity[];
  facts: ExtractedFact[];
  /** The model that answered. */
  model: string;
  /** Tokens spent on this episode, every request of it included (a split episode's halves, a retry). */
  usage: { promptTokens: number; completionTokens: number };
}

/** Where an episode came from: the session and the turns it covers. */
export interface EpisodeOrigin {
  /** The session's id (Claude Code's sessionId, Codex's session id), or null for a note an agent added. */
  session: string | null;
  /** Turns firstTurn..lastTurn (0-based, inclusive) of the session. */
  firstTurn: number | null;
  lastTurn: number | null;
  /** Epoch ms of the episode's first and last record. */
  startedAt: number | null;
  endedAt: number | null;
  /** The transcript file, or "note". */
  source: string | null;
  /** Project path, git branch, model, tool names, format. */
  metadata: Record<string, unknown>;
}

/**
 * One episode's knowledge, written with the item's completion (or when a debt is paid): registers the
 * episode (raw when `extraction` is null) and replaces whatever an earlier version of it extracted, so an
 * episode re-done never counts twice. `origin` may be left out when the episode is already registered
 * (paying a debt adds only the extraction).
 */
export interface KnowledgeWrite {
  kind: "knowledge";
  job: string;
  collection: string;
  key: string;
  version: string;
  origin?: EpisodeOrigin;
  extraction: Extraction | null;
}

export interface EpisodeRecord extends EpisodeOrigin {
  job: string;
  collection: string;
  key: string;
  version: string;
  /** The LLM's summary, or null while the episode is raw. */
  summary: string | null;
  extracted: boolean;
  promptTokens: number;
  completionTokens: number;
}

export interface EntityRecord {
  id: number;
  job: string;
  name: string;
  type: string;
  description: string;
  /** Other spellings met for it (same normalised name and type). */
  aliases: string[];
  /** Episodes that mention it. */
  mentions: number;
}

export interface FactRecord {
  id: number;
  job: string;
  subjectId: number;
  subject: string;
  relation: string;
  objectId: number;
  object: string;
  fact: string;
  validAt: number;
  /** When a newer fact contradicted it, or null while it holds. */
  invalidAt: number | null;
  /** The episode it came from: job, collection and key of the document. */
  episode: { collection: string; key: string };
}

export interface KnowledgeFilter {
  job?: string;
  limit: number;
}

export interface KnowledgeStats {
  episodes: number;
  /** Episodes with an extraction (the rest are raw). */
  extracted: number;
  entities: number;
  facts: number;
  /** Facts not invalidated. */
  validFacts: number;
  promptTokens: number;
  completionTokens: number;
}

/**
 * Episodes, entities and facts, beside the documents (a capability of the ledger's database, like the
 * document store). Writes travel as `KnowledgeWrite`s through the document store (in a settlement, or
 * `DocumentStore.write`), so an episode's knowledge commits with its item.
 */
export interface KnowledgeStore {
  /** Keyword search (bm25) over episode text and summaries, best first. */
  searchEpisodes(query: string, filter: KnowledgeFilter & { session?: string }): Promise<EpisodeRecord[]>;
  /** Episodes whose documents have vectors, ranked by cosine similarity. */
  semanticEpisodes(vector: readonly number[], filter: KnowledgeFilter): Promise<EpisodeRecord[]>;
  /** Keyword search over entity names, aliases and descriptions. */
  searchEntities(query: string, filter: KnowledgeFilter): Promise<EntityRecord[]>;
  /** Keyword search over facts (subject, relation, object and the sentence); valid facts first on ties. */
  searchFacts(query: string, filter: KnowledgeFilter & { includeInvalid?: boolean }): Promise<FactRecord[]>;
  /** Entities within `hops` facts of the given ones (nearest first), with the facts that reach them. */
  neighbours(
    entityIds: readonly number[],
    hops: number,
    limit: number,
  ): Promise<{ entity: EntityRecord; distance: number; via: FactRecord }[]>;
  /** An entity by id, or by name (normalised; `type` narrows), with its facts and the episodes they came from. */
  entity(
    ref: { id: number } | { name: string; type?: string; job?: string },
  ): Promise<{ entity: EntityRecord; facts: FactRecord[]; episodes: EpisodeRecord[] } | undefined>;
  /** Episodes by session or time range (epoch ms), newest first. */
  episodes(
    filter: KnowledgeFilter & { session?: string; since?: number; until?: number },
  ): Promise<EpisodeRecord[]>;
  stats(job?: string): Promise<KnowledgeStats>;
}
