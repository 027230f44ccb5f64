import type pg from "pg";
import { chunkText } from "../chunk-text.js";
import type { DocumentStore } from "../document-store.js";
import { toHit, type SearchRow } from "../search-row.js";
import type {
  DebtChanges,
  DocumentChunk,
  DocumentUpsert,
  DocumentWrite,
  SearchHit,
  VectorWrite,
} from "../types.js";
import type { PgDocumentWriter } from "./document-writer.js";
import { PgKnowledgeWriter } from "./knowledge-writer.js";
import { NOW, type PgDatabase } from "./pg-database.js";

/** ts_headline's options: one fragment of about 16 words with the SQLite snippet's markers. */
const HEADLINE = 'StartSel=[, StopSel=], MaxWords=16, MinWords=6, MaxFragments=1, FragmentDelimiter=" … "';

/**
 * ASCII punctuation: a word break in chunks.tsv (see the migration), as in SQLite's unicode61, where
 * PostgreSQL's parser alone keeps `this.members.push`, `src/a.ts` or `a@b.org` one token no word finds.
 */
const PUNCT = "[\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e]";
/** A zero-width space each side of it lets ts_headline see the same words (and is taken out of the snippet). */
const ZWSP = /\u200b/g;

/**
 * A person's query as websearch_to_tsquery reads it over chunks.tsv: "phrases", a leading -word and or
 * keep their meaning; any other punctuation breaks words, as it does in the chunks.
 */
export function toWebsearch(query: string): string {
  return query.replace(/[\x21\x23-\x2c\x2e\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/g, " ").replace(/(?<=\S)-/g, " ");
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** `{1,2,3}`: a REAL[] literal; a batch of vectors is one text[] parameter (unnest flattens 2-D arrays). */
const realArray = (values: readonly number[]): string => `{${values.join(",")}}`;

interface DocumentId {
  id: number;
  job: string;
  collection: string;
  key: string;
}

const identity = (w: { job: string; collection: string; key: string }): string =>
  JSON.stringify([w.job, w.collection, w.key]);

/**
 * Rounds of writes, each naming a document at most once, in which the writes of one document keep their
 * order: a round is applied with a few set-based statements, and a document's second write waits for the
 * next round (the writes of different documents do not depend on each other).
 */
function rounds(writes: readonly DocumentWrite[]): DocumentWrite[][] {
  const seen = new Map<string, number>();
  const out: DocumentWrite[][] = [];
  for (const w of writes) {
    const id = identity(w);
    const r = seen.get(id) ?? 0;
    seen.set(id, r + 1);
    (out[r] ??= []).push(w);
  }
  // one order for every transaction's row locks, so concurrent settlements do not deadlock on documents
  return out.map((round) =>
    round
      .map((w) => ({ w, id: identity(w) }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((x) => x.w),
  );
}

/**
 * Documents (upsert by key, idempotent by version) in chunks with a generated tsvector and its GIN index,
 * in the ledger's schema; vectors as REAL[] beside them, ranked through pgvector when the database has it.
 */
export class PgDocumentStore implements DocumentStore, PgDocumentWriter {
  /** The schema the `vector` extension is installed in, null without it; undefined until looked up. */
  private pgvector: string | null | undefined;
  /** Episodes' knowledge, written with their documents (after them, in each round). */
  private readonly knowledge = new PgKnowledgeWriter();

  constructor(private readonly db: PgDatabase) {}

  /** Applies writes on `c`, inside the caller's transaction (a settlement's, or `write`'s own). */
  async apply(c: pg.PoolClient, writes: readonly DocumentWrite[]): Promise<void> {
    for (const round of rounds(writes)) await this.applyRound(c, round);
  }

  private async applyRound(c: pg.PoolClient, writes: readonly DocumentWrite[]): Promise<void> {
    const deletes = writes.filter((w) => w.kind === "delete");
    const upserts = writes.filter((w): w is DocumentUpsert => w.kind === "upsert");
    const vectors = writes.filter(
      (w): w is DocumentUpsert | VectorWrite => w.kind === "vector" || (w.kind === "upsert" && !!w.vector),
    );
    const keys = (ws: readonly DocumentWrite[]) => [
      ws.map((w) => w.job),
      ws.map((w) => w.collection),
      ws.map((w) => w.key),
    ];
    for (const d of deletes) await this.knowledge.deleteEpisode(c, d.job, d.collection, d.key);
    if (deletes.length > 0)
      // chunks and the vector go with the row (ON DELETE CASCADE)
      await c.query(
        `DELETE FROM documents d USING unnest($1::text[], $2::text[], $3::text[]) AS w(job, collection, key)
         WHERE d.job = w.job AND d.collection = w.collection AND d.key = w.key`,
        keys(deletes),
      );
    if (upserts.length > 0) {
      // only a new version is written (and returned): the same version again is a no-op, as in SQLite
      const changed = await c.query<DocumentId>(
        `INSERT INTO documents AS d (job, collection, key, version, metadata, updated_at)
         SELECT w.job, w.collection, w.key, w.version, w.metadata, ${NOW}
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[]) WITH ORDINALITY
           AS w(job, collection, key, version, metadata, n)
         ORDER BY w.n
         ON CONFLICT (job, collection, key) DO UPDATE SET version = excluded.version,
           metadata = excluded.metadata, updated_at = excluded.updated_at
           WHERE d.version IS DISTINCT FROM excluded.version
         RETURNING d.id, d.job, d.collection, d.key`,
        [
          ...keys(upserts),
          upserts.map((w) => w.version),
          upserts.map((w) => (w.metadata === undefined ? null : JSON.stringify(w.metadata))),
        ],
      );
      if (changed.rows.length > 0) await this.replaceChunks(c, upserts, changed.rows);
    }
    if (vectors.length > 0)
      // a vector paid for an old version is not attached to newer content: the version must still match
      await c.query(
        `INSERT INTO vectors (document_id, model, dim, vector)
         SELECT d.id, w.model, cardinality(w.vector::real[]), w.vector::real[]
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
           AS w(job, collection, key, version, model, vector)
         JOIN documents d ON d.job = w.job AND d.collection = w.collection AND d.key = w.key
           AND d.version = w.version
         ORDER BY d.id
         ON CONFLICT (document_id) DO UPDATE SET model = excluded.model, dim = excluded.dim,
           vector = excluded.vector`,
        [
          ...keys(vectors),
          vectors.map((w) => w.version),
          vectors.map((w) => w.vector!.model),
          vectors.map((w) => realArray(w.vector!.values)),
        ],
      );
    // an episode's knowledge after its document (a sink writes the upsert first: rounds keep that order)
    for (const w of writes) if (w.kind === "knowledge") await this.knowledge.apply(c, w);
  }

  /** A new version's chunks (as written, else cut by size) replace the old ones, and its old vector goes. */
  private async replaceChunks(
    c: pg.PoolClient,
    upserts: readonly DocumentUpsert[],
    changed: readonly DocumentId[],
  ): Promise<void> {
    const ids = changed.map((r) => r.id);
    await c.query("DELETE FROM chunks WHERE document_id = ANY($1::bigint[])", [ids]);
    await c.query("DELETE FROM vectors WHERE document_id = ANY($1::bigint[])", [ids]);
    const idOf = new Map(changed.map((r) => [identity(r), r.id]));
    const rows: [number, number, string, number | null, number | null, string | null, string | null][] = [];
    for (const w of upserts) {
      const id = idOf.get(identity(w));
      if (id === undefined) continue;
      const chunks = w.chunks ?? chunkText(w.content).map((content) => ({ content }));
      chunks.forEach((ch: Partial<DocumentChunk> & { content: string }, ord) =>
        rows.push([
          id,
          ord,
          ch.content,
          ch.startLine ?? null,
          ch.endLine ?? null,
          ch.symbol ?? null,
          ch.language ?? null,
        ]),
      );
    }
    if (rows.length === 0) return;
    await c.query(
      `INSERT INTO chunks (document_id, ord, content, start_line, end_line, symbol, language)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::int[], $5::int[], $6::text[], $7::text[])`,
      [0, 1, 2, 3, 4, 5, 6].map((i) => rows.map((r) => r[i])),
    );
  }

  /** Writes outside an item settlement (paying a debt, a note), in one transaction with the debts they change. */
  async write(writes: readonly DocumentWrite[], debts: DebtChanges = {}): Promise<void> {
    const owe = debts.owe ?? [];
    if (writes.length === 0 && debts.paid === undefined && owe.length === 0) return;
    await this.db.tx(async (c) => {
      await this.apply(c, writes);
      if (debts.paid !== undefined) await c.query("DELETE FROM debts WHERE id = $1", [debts.paid]);
      for (const d of owe)
        await c.query(
          `INSERT INTO debts (job, phase, key, version, step, provider, reason, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, ${NOW}, ${NOW})
           ON CONFLICT (job, phase, key, step) DO UPDATE SET version = excluded.version,
             reason = excluded.reason, updated_at = excluded.updated_at`,
          [d.job, d.phase, d.key, d.version, d.step, d.provider, d.reason],
        );
    });
  }

  /** Deletes a job's documents, their chunks and vectors (inside the plan store's forgetJob transaction). */
  async forget(c: pg.PoolClient, job: string): Promise<void> {
    await this.knowledge.forgetJob(c, job);
    await c.query("DELETE FROM documents WHERE job = $1", [job]);
  }

  async count(filter: { job?: string; collection?: string }): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      `SELECT count(*) AS n FROM documents
       WHERE ($1::text IS NULL OR job = $1) AND ($2::text IS NULL OR collection = $2)`,
      [filter.job ?? null, filter.collection ?? null],
    );
    return rows[0]!.n;
  }

  async get(
    job: string,
    collection: string,
    key: string,
  ): Promise<{ version: string; content: string } | undefined> {
    const rows = await this.db.query<{ version: string; content: string }>(
      `SELECT d.version, COALESCE(string_agg(c.content, '' ORDER BY c.ord), '') AS content
       FROM documents d LEFT JOIN chunks c ON c.document_id = d.id
       WHERE d.job = $1 AND d.collection = $2 AND d.key = $3
       GROUP BY d.id`,
      [job, collection, key],
    );
    return rows[0];
  }

  /**
   * Chunks matching `websearch_to_tsquery` (plain words must all match; "a phrase", -word and or as a web
   * search reads them), ranked by ts_rank_cd, one hit per document (its best chunk) with a headline of
   * it. The score is the rank negated: lower is better, as bm25 is on SQLite. A query with nothing to
   * look up in the index (only punctuation, only -words) finds nothing rather than scanning every chunk.
   */
  async search(query: string, filter: { job?: string; limit: number }): Promise<SearchHit[]> {
    const words = toWebsearch(query);
    if (words.trim() === "") return [];
    const rows = await this.db.query<SearchRow>(
      `WITH q AS (SELECT websearch_to_tsquery('simple', $1) AS q),
       best AS (
         SELECT DISTINCT ON (c.document_id) c.id, c.document_id, ts_rank_cd(c.tsv, q.q)::float8 AS rank
         FROM q, chunks c JOIN documents d ON d.id = c.document_id
         WHERE numnode(q.q) > 0 AND querytree(q.q) <> 'T' AND c.tsv @@ q.q
           AND ($2::text IS NULL OR d.job = $2)
         ORDER BY c.document_id, rank DESC, c.ord),
       top AS (SELECT * FROM best ORDER BY rank DESC, document_id LIMIT $3)
       SELECT d.job, d.collection, d.key, d.version, -top.rank AS score,
         ts_headline('simple', regexp_replace(c.content, '(${PUNCT})', chr(8203) || '\\1' || chr(8203), 'g'),
           q.q, $4) AS snippet,
         d.metadata -> 'path' AS path, c.start_line, c.end_line, c.symbol, c.language
       FROM top JOIN chunks c ON c.id = top.id JOIN documents d ON d.id = top.document_id, q
       ORDER BY top.rank DESC, top.document_id`,
      [words, filter.job ?? null, filter.limit, HEADLINE],
    );
    return rows.map((r) => toHit({ ...r, snippet: r.snippet.replace(ZWSP, "") }));
  }

  async countVectors(job: string | undefined): Promise<number> {
    await this.lookUpPgvector();
    const rows = await this.db.query<{ n: number }>(
      `SELECT count(*) AS n FROM vectors v JOIN documents d ON d.id = v.document_id
       WHERE $1::text IS NULL OR d.job = $1`,
      [job ?? null],
    );
    return rows[0]!.n;
  }

  /**
   * Why semantic search is a linear scan over REAL[] here (no pgvector), or undefined when pgvector
   * computes the distances; known once countVectors or semanticSearch has looked the extension up.
   */
  vectorSearchWarning(): string | undefined {
    return this.pgvector === null
      ? "the pgvector extension is not installed in this database (CREATE EXTENSION vector): semantic search " +
          "computes cosine similarity over every stored vector in SQL (a linear scan)"
      : undefined;
  }

  /** Documents with vectors of the query's dimension by cosine similarity: pgvector's `<=>`, else in SQL. */
  async semanticSearch(
    vector: readonly number[],
    filter: { job?: string; limit: number },
  ): Promise<SearchHit[]> {
    const ext = await this.lookUpPgvector();
    const q = realArray(vector);
    const params = [q, filter.job ?? null, filter.limit];
    if (ext !== null) {
      // pgvector (untested here: the test machine has no pgvector): no index over REAL[] of mixed
      // dimensions, so still a scan, but the distance is computed natively; a zero vector's NaN scores 0
      const s = quoteIdent(ext);
      return this.db.query<SearchHit>(
        `SELECT d.job, d.collection, d.key, d.version,
           COALESCE(1 - NULLIF(s.distance, 'NaN'::float8), 0) AS score, '' AS snippet
         FROM vectors v JOIN documents d ON d.id = v.document_id,
           LATERAL (SELECT v.vector::${s}.vector OPERATOR(${s}.<=>) $1::real[]::${s}.vector AS distance) s
         WHERE v.dim = cardinality($1::real[]) AND ($2::text IS NULL OR d.job = $2)
         ORDER BY score DESC, d.id LIMIT $3`,
        params,
      );
    }
    // cosine similarity as the SQLite store's linear scan computes it (a zero norm counts as 1)
    return this.db.query<SearchHit>(
      `SELECT d.job, d.collection, d.key, d.version,
         s.dot / (COALESCE(NULLIF(sqrt(s.vv), 0), 1) * COALESCE(NULLIF(sqrt(s.qq), 0), 1)) AS score,
         '' AS snippet
       FROM vectors v JOIN documents d ON d.id = v.document_id,
         LATERAL (SELECT sum(a::float8 * b::float8) AS dot, sum(a::float8 * a::float8) AS vv,
                    sum(b::float8 * b::float8) AS qq
                  FROM unnest(v.vector, $1::real[]) AS p(a, b)) s
       WHERE v.dim = cardinality($1::real[]) AND ($2::text IS NULL OR d.job = $2)
       ORDER BY score DESC, d.id LIMIT $3`,
      params,
    );
  }

  /** The schema of the `vector` extension (null when it is not installed), looked up once. */
  private async lookUpPgvector(): Promise<string | null> {
    if (this.pgvector !== undefined) return this.pgvector;
    const rows = await this.db.query<{ schema: string }>(
      `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
       WHERE e.extname = 'vector'`,
    );
    this.pgvector = rows[0]?.schema ?? null;
    return this.pgvector;
  }
}
