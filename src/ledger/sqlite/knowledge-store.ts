import type Database from "better-sqlite3";
import { normaliseName } from "../entity-name.js";
import type {
  EntityRecord,
  EpisodeRecord,
  FactRecord,
  KnowledgeFilter,
  KnowledgeStats,
  KnowledgeStore,
} from "../knowledge.js";
import {
  entityRecord,
  EPISODE_COLUMNS,
  episodeRecord,
  FACT_COLUMNS,
  FACT_JOINS,
  factRecord,
  normaliseType,
} from "../knowledge-rows.js";
import { nearestEpisodes } from "../nearest-episodes.js";
import { toFtsQuery, type SqliteDocumentStore } from "./document-store.js";

type Row = Record<string, unknown>;
const json = (v: unknown): unknown => JSON.parse(v as string);
const episode = (r: Row): EpisodeRecord => episodeRecord(r, json);
const entity = (r: Row): EntityRecord => entityRecord(r, json);

/** The SELECT list of an entity `e` with its aliases (a JSON array) and how many episodes mention it. */
const ENTITY_COLUMNS = `e.id, e.job, e.name, e.type, e.description,
  (SELECT json_group_array(alias) FROM (SELECT alias FROM entity_aliases WHERE entity_id = e.id ORDER BY alias)) AS aliases,
  (SELECT COUNT(*) FROM mentions WHERE entity_id = e.id) AS mentions`;

/** An entity's facts and episodes shown by `entity()`: valid facts first, then the newest. */
const ENTITY_FACTS = 500;
const ENTITY_EPISODES = 100;

/** Reads of the knowledge store in the ledger's SQLite file (its writes go through the document store). */
export class SqliteKnowledgeStore implements KnowledgeStore {
  constructor(
    private readonly db: Database.Database,
    private readonly documents: SqliteDocumentStore,
  ) {}

  /** bm25 over the episode's document text (its chunks) and its summary; the better of the two ranks it. */
  searchEpisodes(query: string, filter: KnowledgeFilter & { session?: string }): Promise<EpisodeRecord[]> {
    const fts = toFtsQuery(query);
    if (fts === "") return Promise.resolve([]);
    const rows = this.db
      .prepare<[{ fts: string; job: string | null; session: string | null; limit: number }], Row>(
        `WITH chunk AS MATERIALIZED (
           SELECT rowid AS id, bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH @fts),
         text AS (
           SELECT c.document_id, MIN(m.score) AS score FROM chunk m JOIN chunks c ON c.id = m.id
           GROUP BY c.document_id),
         summary AS MATERIALIZED (
           SELECT rowid AS id, bm25(episodes_fts) AS score FROM episodes_fts WHERE episodes_fts MATCH @fts),
         hits AS (
           SELECT ep.id, t.score FROM text t JOIN documents d ON d.id = t.document_id
             JOIN episodes ep ON ep.job = d.job AND ep.collection = d.collection AND ep.key = d.key
           UNION ALL SELECT id, score FROM summary),
         best AS (SELECT id, MIN(score) AS score FROM hits GROUP BY id)
         SELECT ${EPISODE_COLUMNS}, best.score FROM best JOIN episodes ep ON ep.id = best.id
         WHERE (@job IS NULL OR ep.job = @job) AND (@session IS NULL OR ep.session = @session)
         ORDER BY best.score, ep.id LIMIT @limit`,
      )
      .all({ fts, job: filter.job ?? null, session: filter.session ?? null, limit: filter.limit });
    return Promise.resolve(rows.map(episode));
  }

  /** Nearest documents by the documents' vector index (KNN through sqlite-vec), kept when they are episodes. */
  semanticEpisodes(vector: readonly number[], filter: KnowledgeFilter): Promise<EpisodeRecord[]> {
    const find = this.db.prepare<[string, string, string], Row>(
      `SELECT ${EPISODE_COLUMNS} FROM episodes ep WHERE ep.job = ? AND ep.collection = ? AND ep.key = ?`,
    );
    return nearestEpisodes(this.documents, vector, filter, (hits) =>
      Promise.resolve(
        hits.flatMap((h) => {
          const r = find.get(h.job, h.collection, h.key);
          return r ? [episode(r)] : [];
        }),
      ),
    );
  }

  searchEntities(query: string, filter: KnowledgeFilter): Promise<EntityRecord[]> {
    const fts = toFtsQuery(query);
    if (fts === "") return Promise.resolve([]);
    const rows = this.db
      .prepare<[{ fts: string; job: string | null; limit: number }], Row>(
        `WITH m AS MATERIALIZED (
           SELECT rowid AS id, bm25(entities_fts, 10.0, 5.0, 1.0) AS score FROM entities_fts WHERE entities_fts MATCH @fts)
         SELECT ${ENTITY_COLUMNS} FROM m JOIN entities e ON e.id = m.id
         WHERE @job IS NULL OR e.job = @job
         ORDER BY m.score, e.id LIMIT @limit`,
      )
      .all({ fts, job: filter.job ?? null, limit: filter.limit });
    return Promise.resolve(rows.map(entity));
  }

  searchFacts(query: string, filter: KnowledgeFilter & { includeInvalid?: boolean }): Promise<FactRecord[]> {
    const fts = toFtsQuery(query);
    if (fts === "") return Promise.resolve([]);
    const rows = this.db
      .prepare<[{ fts: string; job: string | null; all: number; limit: number }], Row>(
        `WITH m AS MATERIALIZED (
           SELECT rowid AS id, bm25(facts_fts) AS score FROM facts_fts WHERE facts_fts MATCH @fts)
         SELECT ${FACT_COLUMNS} FROM m JOIN facts f ON f.id = m.id ${FACT_JOINS}
         WHERE (@job IS NULL OR f.job = @job) AND (@all = 1 OR f.invalid_at IS NULL)
         ORDER BY m.score, f.invalid_at IS NOT NULL, f.valid_at DESC, f.id LIMIT @limit`,
      )
      .all({ fts, job: filter.job ?? null, all: filter.includeInvalid ? 1 : 0, limit: filter.limit });
    return Promise.resolve(rows.map(factRecord));
  }

  /** A walk over valid facts in both directions (a recursive CTE), each entity at its shortest distance. */
  neighbours(
    entityIds: readonly number[],
    hops: number,
    limit: number,
  ): Promise<{ entity: EntityRecord; distance: number; via: FactRecord }[]> {
    if (entityIds.length === 0 || hops < 1) return Promise.resolve([]);
    const rows = this.db
      .prepare<[{ ids: string; hops: number; limit: number }], Row>(
        `WITH RECURSIVE seed(id) AS (SELECT value FROM json_each(@ids)),
         walk(entity_id, distance, via) AS (
           SELECT id, 0, NULL FROM seed
           UNION
           SELECT f.object_id, w.distance + 1, f.id FROM walk w JOIN facts f ON f.subject_id = w.entity_id
           WHERE w.distance < @hops AND f.invalid_at IS NULL
           UNION
           SELECT f.subject_id, w.distance + 1, f.id FROM walk w JOIN facts f ON f.object_id = w.entity_id
           WHERE w.distance < @hops AND f.invalid_at IS NULL),
         near AS (
           SELECT entity_id, MIN(distance) AS distance, via FROM walk
           WHERE entity_id NOT IN (SELECT id FROM seed) GROUP BY entity_id
           ORDER BY distance, entity_id LIMIT @limit)
         SELECT near.distance, ${ENTITY_COLUMNS}, ${FACT_COLUMNS.replace(/\bf\.id\b/, "f.id AS fact_id")}
         FROM near JOIN entities e ON e.id = near.entity_id JOIN facts f ON f.id = near.via ${FACT_JOINS}
         ORDER BY near.distance, e.id`,
      )
      .all({ ids: JSON.stringify(entityIds), hops, limit });
    return Promise.resolve(
      rows.map((r) => ({
        entity: entity(r),
        distance: r.distance as number,
        via: factRecord({ ...r, id: r.fact_id, job: r.job }),
      })),
    );
  }

  entity(
    ref: { id: number } | { name: string; type?: string; job?: string },
  ): Promise<{ entity: EntityRecord; facts: FactRecord[]; episodes: EpisodeRecord[] } | undefined> {
    const id = "id" in ref ? ref.id : this.idByName(ref);
    const row =
      id === undefined
        ? undefined
        : this.db.prepare<[number], Row>(`SELECT ${ENTITY_COLUMNS} FROM entities e WHERE e.id = ?`).get(id);
    if (row === undefined || id === undefined) return Promise.resolve(undefined);
    const facts = this.db
      .prepare<[number, number, number], Row>(
        `SELECT ${FACT_COLUMNS} FROM facts f ${FACT_JOINS}
         WHERE f.id IN (SELECT id FROM facts WHERE subject_id = ? UNION SELECT id FROM facts WHERE object_id = ?)
         ORDER BY f.invalid_at IS NOT NULL, f.valid_at DESC, f.id LIMIT ?`,
      )
      .all(id, id, ENTITY_FACTS);
    const episodes = this.db
      .prepare<[number, number, number, number], Row>(
        `SELECT ${EPISODE_COLUMNS} FROM episodes ep WHERE ep.id IN (
           SELECT episode_id FROM mentions WHERE entity_id = ?
           UNION SELECT episode_id FROM facts WHERE subject_id = ? UNION SELECT episode_id FROM facts WHERE object_id = ?)
         ORDER BY ep.started_at DESC, ep.id DESC LIMIT ?`,
      )
      .all(id, id, id, ENTITY_EPISODES);
    return Promise.resolve({
      entity: entity(row),
      facts: facts.map(factRecord),
      episodes: episodes.map(episode),
    });
  }

  /** The entity of that normalised name (and type, and job), the most mentioned when several types have it. */
  private idByName(ref: { name: string; type?: string; job?: string }): number | undefined {
    return this.db
      .prepare<[{ norm: string; type: string | null; job: string | null }], number>(
        `SELECT e.id FROM entities e
         WHERE e.norm_name = @norm AND (@type IS NULL OR e.type = @type) AND (@job IS NULL OR e.job = @job)
         ORDER BY (SELECT COUNT(*) FROM mentions WHERE entity_id = e.id) DESC, e.id LIMIT 1`,
      )
      .pluck()
      .get({
        norm: normaliseName(ref.name),
        type: ref.type === undefined ? null : normaliseType(ref.type),
        job: ref.job ?? null,
      });
  }

  episodes(
    filter: KnowledgeFilter & { session?: string; since?: number; until?: number },
  ): Promise<EpisodeRecord[]> {
    const rows = this.db
      .prepare<
        [
          {
            job: string | null;
            session: string | null;
            since: number | null;
            until: number | null;
            limit: number;
          },
        ],
        Row
      >(
        `SELECT ${EPISODE_COLUMNS} FROM episodes ep
         WHERE (@job IS NULL OR ep.job = @job) AND (@session IS NULL OR ep.session = @session)
           AND (@since IS NULL OR ep.started_at >= @since) AND (@until IS NULL OR ep.started_at <= @until)
         ORDER BY ep.started_at DESC, ep.id DESC LIMIT @limit`,
      )
      .all({
        job: filter.job ?? null,
        session: filter.session ?? null,
        since: filter.since ?? null,
        until: filter.until ?? null,
        limit: filter.limit,
      });
    return Promise.resolve(rows.map(episode));
  }

  stats(job?: string): Promise<KnowledgeStats> {
    const j = { job: job ?? null };
    const episodes = this.db
      .prepare<[typeof j], { n: number; extracted: number | null; p: number | null; c: number | null }>(
        `SELECT COUNT(*) AS n, SUM(extracted) AS extracted, SUM(prompt_tokens) AS p, SUM(completion_tokens) AS c
         FROM episodes WHERE @job IS NULL OR job = @job`,
      )
      .get(j)!;
    const entities = this.db
      .prepare<[typeof j], number>("SELECT COUNT(*) FROM entities WHERE @job IS NULL OR job = @job")
      .pluck()
      .get(j)!;
    const facts = this.db
      .prepare<[typeof j], { n: number; valid: number | null }>(
        "SELECT COUNT(*) AS n, SUM(invalid_at IS NULL) AS valid FROM facts WHERE @job IS NULL OR job = @job",
      )
      .get(j)!;
    return Promise.resolve({
      episodes: episodes.n,
      extracted: episodes.extracted ?? 0,
      entities,
      facts: facts.n,
      validFacts: facts.valid ?? 0,
      promptTokens: episodes.p ?? 0,
      completionTokens: episodes.c ?? 0,
    });
  }
}
