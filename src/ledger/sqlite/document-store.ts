import type Database from "better-sqlite3";
import { SqliteKnowledgeWriter } from "./knowledge-writer.js";
import { SqliteVectorIndex, type VectorExtensionLoader } from "./vector-index.js";
import type { DocumentStore } from "../document-store.js";
import type { DebtChanges, DocumentChunk, DocumentWrite, SearchHit } from "../types.js";
import { chunkText } from "../chunk-text.js";
import { dbNow } from "./clock.js";
import { toHit, type SearchRow } from "../search-row.js";

type SemanticHit = SearchHit;

/** Turns a person's words into an FTS5 query: every word must match, no operator syntax errors. */
export function toFtsQuery(query: string): string {
  const words = query.match(/[\p{L}\p{N}_]+/gu) ?? [];
  return words.map((w) => `"${w}"`).join(" ");
}

/** Documents (upsert by key, idempotent by version) in chunks with an FTS5 index, inside the ledger's file. */
export class SqliteDocumentStore implements DocumentStore {
  private readonly findVersion;
  private readonly upsertDoc;
  private readonly deleteChunks;
  private readonly insertChunk;
  private readonly deleteDoc;
  private readonly deleteVector;
  private readonly upsertVector;

  /** The KNN index kept in step with `vectors` (or a note of why it is not loaded). */
  readonly vectorIndex: SqliteVectorIndex;
  /** Episodes' knowledge, written with their documents. */
  private readonly knowledge: SqliteKnowledgeWriter;

  constructor(
    private readonly db: Database.Database,
    loadExtension?: VectorExtensionLoader,
  ) {
    this.vectorIndex = new SqliteVectorIndex(db, loadExtension);
    this.knowledge = new SqliteKnowledgeWriter(db);
    this.findVersion = db.prepare<[string, string, string], { id: number; version: string }>(
      "SELECT id, version FROM documents WHERE job = ? AND collection = ? AND key = ?",
    );
    this.deleteVector = db.prepare<[number]>("DELETE FROM vectors WHERE document_id = ?");
    this.upsertVector = db.prepare<[number, string, number, Buffer]>(
      `INSERT INTO vectors (document_id, model, dim, vector) VALUES (?, ?, ?, ?)
       ON CONFLICT (document_id) DO UPDATE SET model = excluded.model, dim = excluded.dim, vector = excluded.vector`,
    );
    this.upsertDoc = db.prepare<[string, string, string, string, string | null, number], { id: number }>(
      `INSERT INTO documents (job, collection, key, version, metadata, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (job, collection, key) DO UPDATE SET version = excluded.version, metadata = excluded.metadata,
         updated_at = excluded.updated_at
       RETURNING id`,
    );
    this.deleteChunks = db.prepare<[number]>("DELETE FROM chunks WHERE document_id = ?");
    this.insertChunk = db.prepare<
      [number, number, string, number | null, number | null, string | null, string | null]
    >(
      `INSERT INTO chunks (document_id, ord, content, start_line, end_line, symbol, language)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deleteDoc = db.prepare<[string, string, string], { id: number }>(
      "DELETE FROM documents WHERE job = ? AND collection = ? AND key = ? RETURNING id",
    );
  }

  /** Applies one write; call inside the settling transaction. */
  apply(w: DocumentWrite, now: number): void {
    if (w.kind === "knowledge") return this.knowledge.apply(w, now);
    if (w.kind === "delete") {
      this.knowledge.deleteEpisode(w.job, w.collection, w.key);
      const gone = this.deleteDoc.get(w.job, w.collection, w.key);
      if (gone) {
        this.deleteChunks.run(gone.id);
        this.deleteVector.run(gone.id);
        this.vectorIndex.remove(gone.id);
      }
      return;
    }
    const existing = this.findVersion.get(w.job, w.collection, w.key);
    if (w.kind === "vector") {
      // a debt paid late must not attach an old version's vector to newer content
      if (existing?.version === w.version) this.putVector(existing.id, w.job, w.vector);
      return;
    }
    let id = existing?.id;
    if (existing?.version !== w.version) {
      const meta = w.metadata === undefined ? null : JSON.stringify(w.metadata);
      id = this.upsertDoc.get(w.job, w.collection, w.key, w.version, meta, now)!.id;
      this.deleteChunks.run(id);
      this.deleteVector.run(id);
      this.vectorIndex.remove(id);
      const chunks = w.chunks ?? chunkText(w.content).map((content) => ({ content }));
      chunks.forEach((c: Partial<DocumentChunk> & { content: string }, ord) =>
        this.insertChunk.run(
          id!,
          ord,
          c.content,
          c.startLine ?? null,
          c.endLine ?? null,
          c.symbol ?? null,
          c.language ?? null,
        ),
      );
    }
    if (w.vector && id !== undefined) this.putVector(id, w.job, w.vector);
  }

  /** Writes outside an item settlement (paying a debt, a note), in one transaction with the debts they change. */
  write(writes: readonly DocumentWrite[], debts: DebtChanges = {}): Promise<void> {
    this.db
      .transaction(() => {
        const now = dbNow(this.db);
        for (const w of writes) this.apply(w, now);
        if (debts.paid !== undefined) this.db.prepare("DELETE FROM debts WHERE id = ?").run(debts.paid);
        const owe = this.db.prepare(
          `INSERT INTO debts (job, phase, key, version, step, provider, reason, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (job, phase, key, step) DO UPDATE SET version = excluded.version,
             reason = excluded.reason, updated_at = excluded.updated_at`,
        );
        for (const d of debts.owe ?? [])
          owe.run(d.job, d.phase, d.key, d.version, d.step, d.provider, d.reason, now, now);
      })
      .immediate();
    return Promise.resolve();
  }

  /** Deletes a job's documents (call inside the ledger's forgetJob transaction). */
  forgetJob(job: string): void {
    this.knowledge.forgetJob(job);
    const ids = "SELECT id FROM documents WHERE job = ?";
    this.db.prepare(`DELETE FROM chunks WHERE document_id IN (${ids})`).run(job);
    this.db.prepare(`DELETE FROM vectors WHERE document_id IN (${ids})`).run(job);
    this.vectorIndex.removeJob(job);
    this.db.prepare("DELETE FROM documents WHERE job = ?").run(job);
  }

  private putVector(documentId: number, job: string, v: { model: string; values: readonly number[] }): void {
    const blob = Buffer.from(new Float32Array(v.values).buffer);
    this.upsertVector.run(documentId, v.model, v.values.length, blob);
    this.vectorIndex.put(documentId, job, v.model, blob, v.values.length);
  }

  countVectors(job: string | undefined): Promise<number> {
    return Promise.resolve(
      this.db
        .prepare<[{ job: string | null }], { n: number }>(
          "SELECT COUNT(*) AS n FROM vectors v JOIN documents d ON d.id = v.document_id WHERE @job IS NULL OR d.job = @job",
        )
        .get({ job: job ?? null })!.n,
    );
  }

  /** Why vector search is a linear scan here (the extension did not load), or undefined when KNN is used. */
  vectorSearchWarning(): string | undefined {
    const why = this.vectorIndex.unavailable;
    return why === undefined
      ? undefined
      : `the sqlite-vec extension did not load (${why}); semantic search scans every vector instead`;
  }

  /** Documents with vectors, ranked by cosine similarity to `query`: KNN through sqlite-vec, else a linear scan. */
  semanticSearch(query: readonly number[], filter: { job?: string; limit: number }): Promise<SemanticHit[]> {
    if (this.vectorIndex.unavailable === undefined) return Promise.resolve(this.knnSearch(query, filter));
    return Promise.resolve(this.linearSearch(query, filter));
  }

  private knnSearch(query: readonly number[], filter: { job?: string; limit: number }): SemanticHit[] {
    const found = this.vectorIndex.knn(new Float32Array(query), filter);
    const doc = this.db.prepare<[number], { job: string; collection: string; key: string; version: string }>(
      "SELECT job, collection, key, version FROM documents WHERE id = ?",
    );
    return found.flatMap((n) => {
      const d = doc.get(n.documentId);
      return d ? [{ ...d, score: n.score, snippet: "" }] : [];
    });
  }

  /** The exact scan KNN replaces: every vector of the query's dimension, by cosine similarity. */
  linearSearch(query: readonly number[], filter: { job?: string; limit: number }): SemanticHit[] {
    const q = new Float32Array(query);
    const qn = Math.hypot(...q) || 1;
    const hits: SemanticHit[] = [];
    const rows = this.db
      .prepare<
        [{ job: string | null }],
        { id: number; job: string; collection: string; key: string; version: string; vector: Buffer }
      >(
        `SELECT d.id, d.job, d.collection, d.key, d.version, v.vector FROM vectors v JOIN documents d ON d.id = v.document_id
         WHERE @job IS NULL OR d.job = @job`,
      )
      .iterate({ job: filter.job ?? null });
    for (const r of rows) {
      const v = new Float32Array(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength / 4);
      if (v.length !== q.length) continue;
      let dot = 0;
      let vn = 0;
      for (let i = 0; i < v.length; i++) {
        dot += v[i]! * q[i]!;
        vn += v[i]! * v[i]!;
      }
      hits.push({
        job: r.job,
        collection: r.collection,
        key: r.key,
        version: r.version,
        score: dot / (qn * (Math.sqrt(vn) || 1)),
        snippet: "",
      });
    }
    hits.sort((a, b) => b.score - a.score);
    return hits.slice(0, filter.limit);
  }

  count(filter: { job?: string; collection?: string }): Promise<number> {
    const row = this.db
      .prepare<[{ job: string | null; collection: string | null }], { n: number }>(
        `SELECT COUNT(*) AS n FROM documents WHERE (@job IS NULL OR job = @job) AND (@collection IS NULL OR collection = @collection)`,
      )
      .get({ job: filter.job ?? null, collection: filter.collection ?? null })!;
    return Promise.resolve(row.n);
  }

  get(
    job: string,
    collection: string,
    key: string,
  ): Promise<{ version: string; content: string } | undefined> {
    const doc = this.db
      .prepare<[string, string, string], { id: number; version: string }>(
        "SELECT id, version FROM documents WHERE job = ? AND collection = ? AND key = ?",
      )
      .get(job, collection, key);
    if (!doc) return Promise.resolve(undefined);
    const parts = this.db
      .prepare<[number], { content: string }>("SELECT content FROM chunks WHERE document_id = ? ORDER BY ord")
      .all(doc.id);
    return Promise.resolve({ version: doc.version, content: parts.map((p) => p.content).join("") });
  }

  /** bm25-ranked documents (best chunk per document) with a snippet around the match. */
  search(query: string, filter: { job?: string; limit: number }): Promise<SearchHit[]> {
    const fts = toFtsQuery(query);
    if (fts === "") return Promise.resolve([]);
    const rows = this.db
      .prepare<[{ fts: string; job: string | null; limit: number }], SearchRow>(
        `WITH m AS MATERIALIZED (
           SELECT rowid AS id, bm25(chunks_fts) AS score, snippet(chunks_fts, 0, '[', ']', ' … ', 16) AS snippet
           FROM chunks_fts WHERE chunks_fts MATCH @fts)
         SELECT d.job, d.collection, d.key, d.version, MIN(m.score) AS score, m.snippet,
           json_extract(d.metadata, '$.path') AS path, c.start_line, c.end_line, c.symbol, c.language
         FROM m
         JOIN chunks c ON c.id = m.id
         JOIN documents d ON d.id = c.document_id
         WHERE (@job IS NULL OR d.job = @job)
         GROUP BY d.id
         ORDER BY score
         LIMIT @limit`,
      )
      .all({ fts, job: filter.job ?? null, limit: filter.limit });
    return Promise.resolve(rows.map(toHit));
  }
}
