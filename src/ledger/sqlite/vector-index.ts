import type Database from "better-sqlite3";
import * as sqliteVec from "sqlite-vec";

/** Loads the vector extension into a connection; throws when it cannot (injectable to simulate that). */
export type VectorExtensionLoader = (db: Database.Database) => void;

export const loadSqliteVec: VectorExtensionLoader = (db) => sqliteVec.load(db);

/** One nearest neighbour: the document and its cosine similarity to the query (higher is better). */
export interface Neighbour {
  documentId: number;
  score: number;
}

interface IndexRow {
  name: string;
  model: string;
  dim: number;
  stale: number;
}

/**
 * The KNN index over the `vectors` table: one sqlite-vec `vec0` table per (model, dimension), listed in
 * `vector_indexes`, rowid = document id. `vectors` stays the source of truth; a process without the
 * extension marks every index stale when it writes, and the next process with it rebuilds them.
 */
export class SqliteVectorIndex {
  /** Why the extension is not loaded (search falls back to a linear scan), or undefined when it is. */
  readonly unavailable: string | undefined;

  constructor(
    private readonly db: Database.Database,
    load: VectorExtensionLoader = loadSqliteVec,
  ) {
    let reason: string | undefined;
    try {
      load(db);
    } catch (e) {
      reason = e instanceof Error ? e.message : String(e);
    }
    this.unavailable = reason;
    if (reason === undefined) {
      this.backfill();
      this.rebuildStale();
    }
  }

  /** Vectors stored before any index existed (an older state file) get their indexes, filled by rebuildStale. */
  private backfill(): void {
    if (this.indexes().length > 0) return;
    if (!this.db.prepare("SELECT 1 FROM vectors LIMIT 1").get()) return;
    const pairs = this.db
      .prepare<[], { model: string; dim: number }>("SELECT DISTINCT model, dim FROM vectors")
      .all();
    this.db
      .transaction(() => {
        for (const p of pairs) this.ensure(p.model, p.dim);
        this.markStale();
      })
      .immediate();
  }

  private indexes(): IndexRow[] {
    return this.db.prepare<[], IndexRow>("SELECT name, model, dim, stale FROM vector_indexes").all();
  }

  private ensure(model: string, dim: number): string {
    const found = this.db
      .prepare<[string, number], { name: string }>(
        "SELECT name FROM vector_indexes WHERE model = ? AND dim = ?",
      )
      .get(model, dim);
    if (found) return found.name;
    const n = this.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM vector_indexes").get()!.n;
    const name = `vec_index_${n + 1}_${dim}`;
    this.db.exec(
      `CREATE VIRTUAL TABLE IF NOT EXISTS ${name} USING vec0(embedding float[${dim}] distance_metric=cosine, job text)`,
    );
    this.db.prepare("INSERT INTO vector_indexes (name, model, dim) VALUES (?, ?, ?)").run(name, model, dim);
    return name;
  }

  private markStale(): void {
    this.db.prepare("UPDATE vector_indexes SET stale = 1 WHERE stale = 0").run();
  }

  /** Puts a document's vector into its (model, dim) index and out of any other. Call inside the write's transaction. */
  put(documentId: number, job: string, model: string, vector: Buffer, dim: number): void {
    if (this.unavailable !== undefined) return this.markStale();
    this.remove(documentId);
    const name = this.ensure(model, dim);
    this.db
      .prepare(`INSERT INTO ${name} (rowid, embedding, job) VALUES (?, ?, ?)`)
      .run(BigInt(documentId), vector, job);
  }

  /** Removes a document's vector from every index. */
  remove(documentId: number): void {
    if (this.unavailable !== undefined) return this.markStale();
    for (const ix of this.indexes())
      this.db.prepare(`DELETE FROM ${ix.name} WHERE rowid = ?`).run(BigInt(documentId));
  }

  /** Removes a job's vectors from every index. */
  removeJob(job: string): void {
    if (this.unavailable !== undefined) return this.markStale();
    for (const ix of this.indexes()) this.db.prepare(`DELETE FROM ${ix.name} WHERE job = ?`).run(job);
  }

  /** The k nearest documents to `query` in every index of its dimension (cosine), best first. */
  knn(query: Float32Array, filter: { job?: string; limit: number }): Neighbour[] {
    const hits: Neighbour[] = [];
    const blob = Buffer.from(query.buffer, query.byteOffset, query.byteLength);
    for (const ix of this.indexes()) {
      if (ix.dim !== query.length) continue;
      const rows = this.db
        .prepare<[Buffer, number, ...string[]], { rowid: number | bigint; distance: number }>(
          `SELECT rowid, distance FROM ${ix.name} WHERE embedding MATCH ? AND k = ?${filter.job === undefined ? "" : " AND job = ?"}`,
        )
        .all(blob, filter.limit, ...(filter.job === undefined ? [] : [filter.job]));
      for (const r of rows) hits.push({ documentId: Number(r.rowid), score: 1 - r.distance });
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, filter.limit);
  }

  /** Empties every index: the ledger's vectors are about to be replaced wholesale (a copy with replace). */
  reset(): void {
    // without the extension its tables cannot be dropped: the next process with it refills them
    if (this.unavailable !== undefined) return this.markStale();
    for (const ix of this.indexes()) this.db.exec(`DROP TABLE ${ix.name}`);
    this.db.prepare("DELETE FROM vector_indexes").run();
  }

  /** Indexes every (model, dim) in `vectors` afresh: vectors were written around put() (a ledger copy). */
  reindex(): void {
    if (this.unavailable !== undefined) return this.markStale();
    const pairs = this.db
      .prepare<[], { model: string; dim: number }>("SELECT DISTINCT model, dim FROM vectors")
      .all();
    this.db
      .transaction(() => {
        for (const p of pairs) this.ensure(p.model, p.dim);
        this.markStale();
      })
      .immediate();
    this.rebuildStale();
  }

  /** Refills every index marked stale from `vectors` (written while the extension was unavailable), a page at a time. */
  private rebuildStale(): void {
    const stale = this.indexes().filter((ix) => ix.stale !== 0);
    if (stale.length === 0) return;
    const page = this.db.prepare<[string, number, number], { id: number; job: string; vector: Buffer }>(
      `SELECT v.document_id AS id, d.job, v.vector FROM vectors v JOIN documents d ON d.id = v.document_id
       WHERE v.model = ? AND v.dim = ? AND v.document_id > ? ORDER BY v.document_id LIMIT 1000`,
    );
    this.db
      .transaction(() => {
        for (const ix of stale) {
          this.db.exec(`DELETE FROM ${ix.name}`);
          const insert = this.db.prepare(`INSERT INTO ${ix.name} (rowid, embedding, job) VALUES (?, ?, ?)`);
          for (let after = 0; ;) {
            const rows = page.all(ix.model, ix.dim, after);
            if (rows.length === 0) break;
            for (const r of rows) insert.run(BigInt(r.id), r.vector, r.job);
            after = rows[rows.length - 1]!.id;
          }
          this.db.prepare("UPDATE vector_indexes SET stale = 0 WHERE name = ?").run(ix.name);
        }
      })
      .immediate();
  }
}
