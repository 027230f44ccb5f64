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
import { toWebsearch, type PgDocumentStore } from "./document-store.js";
import type { PgDatabase } from "./pg-database.js";

type Row = Record<string, unknown>;
/** JSONB and json_agg come back parsed. */
const json = (v: unknown): unknown => v;
const episode = (r: Row): EpisodeRecord => episodeRecord(r, json);
const entity = (r: Row): EntityRecord => entityRecord(r, json);

const ENTITY_COLUMNS = `e.id, e.job, e.name, e.type, e.description,
  (SELECT coalesce(json_agg(a.alias ORDER BY a.alias), '[]'::json) FROM entity_aliases a WHERE a.entity_id = e.id) AS aliases,
  (SELECT count(*) FROM mentions m WHERE m.entity_id = e.id) AS mentions`;

/** The query as a tsquery `q` (see the document store's search), and whether it has anything to look up. */
const QUERY = `q AS (SELECT websearch_to_tsquery('simple', $1) AS q)`;
const USABLE = `numnode(q.q) > 0 AND querytree(q.q) <> 'T'`;

const ENTITY_FACTS = 500;
const ENTITY_EPISODES = 100;

/** Reads of the knowledge store in the ledger's PostgreSQL schema (its writes go through the document store). */
export class PgKnowledgeStore implements KnowledgeStore {
  constructor(
    private readonly db: PgDatabase,
    private readonly documents: PgDocumentStore,
  ) {}

  /** ts_rank_cd over the episode's document text (its chunks) and its summary; the better of the two ranks it. */
  async searchEpisodes(
    query: string,
    filter: KnowledgeFilter & { session?: string },
  ): Promise<EpisodeRecord[]> {
    const words = toWebsearch(query);
    if (words.trim() === "") return [];
    const rows = await this.db.query<Row>(
      `WITH ${QUERY},
       text AS (
         SELECT c.document_id, max(ts_rank_cd(c.tsv, q.q)) AS rank FROM q, chunks c
         WHERE ${USABLE} AND c.tsv @@ q.q GROUP BY c.document_id),
       hits AS (
         SELECT ep.id, t.rank FROM text t JOIN documents d ON d.id = t.document_id
           JOIN episodes ep ON ep.job = d.job AND ep.collection = d.collection AND ep.key = d.key
         UNION ALL
         SELECT ep.id, ts_rank_cd(ep.tsv, q.q) FROM q, episodes ep WHERE ${USABLE} AND ep.tsv @@ q.q),
       best AS (SELECT id, max(rank) AS rank FROM hits GROUP BY id)
       SELECT ${EPISODE_COLUMNS} FROM best JOIN episodes ep ON ep.id = best.id
       WHERE ($2::text IS NULL OR ep.job = $2) AND ($3::text IS NULL OR ep.session = $3)
       ORDER BY best.rank DESC, ep.id LIMIT $4`,
      [words, filter.job ?? null, filter.session ?? null, filter.limit],
    );
    return rows.map(episode);
  }

  /** Nearest documents by the documents' vectors (pgvector, else SQL), kept when they are episodes. */
  semanticEpisodes(vector: readonly number[], filter: KnowledgeFilter): Promise<EpisodeRecord[]> {
    return nearestEpisodes(this.documents, vector, filter, async (hits) => {
      if (hits.length === 0) return [];
      const rows = await this.db.query<Row & { n: number }>(
        `SELECT ${EPISODE_COLUMNS}, h.n FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS h(job, collection, key, n)
         JOIN episodes ep ON ep.job = h.job AND ep.collection = h.collection AND ep.key = h.key
         ORDER BY h.n`,
        [hits.map((h) => h.job), hits.map((h) => h.collection), hits.map((h) => h.key)],
      );
      return rows.map(episode);
    });
  }

  /** Over names and descriptions (the name weighs more) and aliases. */
  async searchEntities(query: string, filter: KnowledgeFilter): Promise<EntityRecord[]> {
    const words = toWebsearch(query);
    if (words.trim() === "") return [];
    const rows = await this.db.query<Row>(
      `WITH ${QUERY},
       m AS (
         SELECT e.id, ts_rank_cd(e.tsv, q.q) AS rank FROM q, entities e WHERE ${USABLE} AND e.tsv @@ q.q
         UNION ALL
         SELECT a.entity_id, ts_rank_cd(a.tsv, q.q) FROM q, entity_aliases a WHERE ${USABLE} AND a.tsv @@ q.q),
       best AS (SELECT id, max(rank) AS rank FROM m GROUP BY id)
       SELECT ${ENTITY_COLUMNS} FROM best JOIN entities e ON e.id = best.id
       WHERE $2::text IS NULL OR e.job = $2
       ORDER BY best.rank DESC, e.id LIMIT $3`,
      [words, filter.job ?? null, filter.limit],
    );
    return rows.map(entity);
  }

  /** Over the relation and sentence; a fact whose subject or object is a matching entity matches too. */
  async searchFacts(
    query: string,
    filter: KnowledgeFilter & { includeInvalid?: boolean },
  ): Promise<FactRecord[]> {
    const words = toWebsearch(query);
    if (words.trim() === "") return [];
    const rows = await this.db.query<Row>(
      `WITH ${QUERY},
       ents AS (SELECT e.id FROM q, entities e WHERE ${USABLE} AND e.tsv @@ q.q),
       m AS (
         SELECT f.id, ts_rank_cd(f.tsv, q.q) AS rank FROM q, facts f WHERE ${USABLE} AND f.tsv @@ q.q
         UNION ALL SELECT f.id, 0 FROM facts f WHERE f.subject_id IN (SELECT id FROM ents)
         UNION ALL SELECT f.id, 0 FROM facts f WHERE f.object_id IN (SELECT id FROM ents)),
       best AS (SELECT id, max(rank) AS rank FROM m GROUP BY id)
       SELECT ${FACT_COLUMNS} FROM best JOIN facts f ON f.id = best.id ${FACT_JOINS}
       WHERE ($2::text IS NULL OR f.job = $2) AND ($3 OR f.invalid_at IS NULL)
       ORDER BY best.rank DESC, f.invalid_at IS NOT NULL, f.valid_at DESC, f.id LIMIT $4`,
      [words, filter.job ?? null, filter.includeInvalid === true, filter.limit],
    );
    return rows.map(factRecord);
  }

  /** A walk over valid facts in both directions (a recursive CTE), each entity at its shortest distance. */
  async neighbours(
    entityIds: readonly number[],
    hops: number,
    limit: number,
  ): Promise<{ entity: EntityRecord; distance: number; via: FactRecord }[]> {
    if (entityIds.length === 0 || hops < 1) return [];
    const rows = await this.db.query<Row>(
      `WITH RECURSIVE walk(entity_id, distance, via) AS (
         SELECT s.id, 0, NULL::bigint FROM unnest($1::bigint[]) AS s(id)
         UNION
         SELECT n.id, w.distance + 1, n.via FROM walk w CROSS JOIN LATERAL (
           SELECT f.object_id AS id, f.id AS via FROM facts f WHERE f.subject_id = w.entity_id AND f.invalid_at IS NULL
           UNION ALL
           SELECT f.subject_id, f.id FROM facts f WHERE f.object_id = w.entity_id AND f.invalid_at IS NULL) n
         WHERE w.distance < $2),
       near AS (
         SELECT DISTINCT ON (entity_id) entity_id, distance, via FROM walk WHERE entity_id <> ALL ($1::bigint[])
         ORDER BY entity_id, distance, via),
       top AS (SELECT * FROM near ORDER BY distance, entity_id LIMIT $3)
       SELECT top.distance, ${ENTITY_COLUMNS}, ${FACT_COLUMNS.replace(/\bf\.id\b/, "f.id AS fact_id")}
       FROM top JOIN entities e ON e.id = top.entity_id JOIN facts f ON f.id = top.via ${FACT_JOINS}
       ORDER BY top.distance, e.id`,
      [entityIds, hops, limit],
    );
    return rows.map((r) => ({
      entity: entity(r),
      distance: Number(r.distance),
      via: factRecord({ ...r, id: r.fact_id }),
    }));
  }

  async entity(
    ref: { id: number } | { name: string; type?: string; job?: string },
  ): Promise<{ entity: EntityRecord; facts: FactRecord[]; episodes: EpisodeRecord[] } | undefined> {
    const id = "id" in ref ? ref.id : await this.idByName(ref);
    if (id === undefined) return undefined;
    const [row] = await this.db.query<Row>(`SELECT ${ENTITY_COLUMNS} FROM entities e WHERE e.id = $1`, [id]);
    if (row === undefined) return undefined;
    const facts = await this.db.query<Row>(
      `SELECT ${FACT_COLUMNS} FROM facts f ${FACT_JOINS}
       WHERE f.id IN (SELECT id FROM facts WHERE subject_id = $1 UNION SELECT id FROM facts WHERE object_id = $1)
       ORDER BY f.invalid_at IS NOT NULL, f.valid_at DESC, f.id LIMIT $2`,
      [id, ENTITY_FACTS],
    );
    const episodes = await this.db.query<Row>(
      `SELECT ${EPISODE_COLUMNS} FROM episodes ep WHERE ep.id IN (
         SELECT episode_id FROM mentions WHERE entity_id = $1
         UNION SELECT episode_id FROM facts WHERE subject_id = $1 UNION SELECT episode_id FROM facts WHERE object_id = $1)
       ORDER BY ep.started_at DESC NULLS LAST, ep.id DESC LIMIT $2`,
      [id, ENTITY_EPISODES],
    );
    return { entity: entity(row), facts: facts.map(factRecord), episodes: episodes.map(episode) };
  }

  /** The entity of that normalised name (and type, and job), the most mentioned when several types have it. */
  private async idByName(ref: { name: string; type?: string; job?: string }): Promise<number | undefined> {
    const rows = await this.db.query<{ id: number }>(
      `SELECT e.id FROM entities e
       WHERE e.norm_name = $1 AND ($2::text IS NULL OR e.type = $2) AND ($3::text IS NULL OR e.job = $3)
       ORDER BY (SELECT count(*) FROM mentions WHERE entity_id = e.id) DESC, e.id LIMIT 1`,
      [normaliseName(ref.name), ref.type === undefined ? null : normaliseType(ref.type), ref.job ?? null],
    );
    return rows[0]?.id;
  }

  async episodes(
    filter: KnowledgeFilter & { session?: string; since?: number; until?: number },
  ): Promise<EpisodeRecord[]> {
    const rows = await this.db.query<Row>(
      `SELECT ${EPISODE_COLUMNS} FROM episodes ep
       WHERE ($1::text IS NULL OR ep.job = $1) AND ($2::text IS NULL OR ep.session = $2)
         AND ($3::bigint IS NULL OR ep.started_at >= $3) AND ($4::bigint IS NULL OR ep.started_at <= $4)
       ORDER BY ep.started_at DESC NULLS LAST, ep.id DESC LIMIT $5`,
      [filter.job ?? null, filter.session ?? null, filter.since ?? null, filter.until ?? null, filter.limit],
    );
    return rows.map(episode);
  }

  async stats(job?: string): Promise<KnowledgeStats> {
    const [r] = await this.db.query<Record<string, number | null>>(
      `SELECT
         (SELECT count(*) FROM episodes WHERE $1::text IS NULL OR job = $1) AS episodes,
         (SELECT count(*) FROM episodes WHERE ($1::text IS NULL OR job = $1) AND extracted) AS extracted,
         (SELECT sum(prompt_tokens) FROM episodes WHERE $1::text IS NULL OR job = $1) AS prompt,
         (SELECT sum(completion_tokens) FROM episodes WHERE $1::text IS NULL OR job = $1) AS completion,
         (SELECT count(*) FROM entities WHERE $1::text IS NULL OR job = $1) AS entities,
         (SELECT count(*) FROM facts WHERE $1::text IS NULL OR job = $1) AS facts,
         (SELECT count(*) FROM facts WHERE ($1::text IS NULL OR job = $1) AND invalid_at IS NULL) AS valid`,
      [job ?? null],
    );
    return {
      episodes: r!.episodes ?? 0,
      extracted: r!.extracted ?? 0,
      entities: r!.entities ?? 0,
      facts: r!.facts ?? 0,
      validFacts: r!.valid ?? 0,
      promptTokens: r!.prompt ?? 0,
      completionTokens: r!.completion ?? 0,
    };
  }
}
