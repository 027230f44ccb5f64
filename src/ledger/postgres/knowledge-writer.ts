import type pg from "pg";
import { normaliseName, normaliseRelation } from "../entity-name.js";
import type { Extraction, KnowledgeWrite } from "../knowledge.js";
import { extractionHash, normaliseType, validAtOf } from "../knowledge-rows.js";
import { toJsonb } from "./jsonb.js";
import { NOW } from "./pg-database.js";

interface EpisodeRow {
  id: number;
  version: string;
  extraction_hash: string | null;
  started_at: number | null;
}

/** A group of facts that can contradict each other: one subject, one relation. */
const group = (subject: number, relation: string): string => JSON.stringify([subject, relation]);

/** Entities in one order (type, then normalised name), so concurrent writers take their row locks alike. */
const byKey = (a: { key: string }, b: { key: string }): number =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : 0;

/**
 * Applies knowledge writes on the settlement's connection, inside its transaction (the same semantics as
 * the SQLite writer: see KnowledgeWrite). The unique (job, type, norm_name) constraint decides between
 * concurrent writers of one entity; a deadlock between two of them is retried by the transaction.
 */
export class PgKnowledgeWriter {
  async apply(c: pg.PoolClient, w: KnowledgeWrite): Promise<void> {
    const o = w.origin;
    const params = (): unknown[] => [
      w.job,
      w.collection,
      w.key,
      w.version,
      o!.session,
      o!.firstTurn,
      o!.lastTurn,
      o!.startedAt,
      o!.endedAt,
      o!.source,
      toJsonb(o!.metadata),
    ];
    // a new episode starts raw at this version; a writer of the same episode at once waits for this one
    if (o !== undefined)
      await c.query(
        `INSERT INTO episodes (job, collection, key, version, session, first_turn, last_turn, started_at,
           ended_at, source, metadata, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, ${NOW})
         ON CONFLICT (job, collection, key) DO NOTHING`,
        params(),
      );
    // decided on the locked row, as the last committed writer left it
    const found = await c.query<EpisodeRow>(
      `SELECT id, version, extraction_hash, started_at FROM episodes WHERE job = $1 AND collection = $2 AND key = $3
       FOR UPDATE`,
      [w.job, w.collection, w.key],
    );
    const locked = found.rows[0];
    if (locked === undefined) return this.missingEpisode(c, w);
    if (o === undefined && locked.version !== w.version) return;
    const hash = w.extraction === null ? null : extractionHash(w.extraction);
    const sameVersion = locked.version === w.version;
    const ep = { ...locked, started_at: o === undefined ? locked.started_at : o.startedAt };
    if (o !== undefined)
      await c.query(
        `UPDATE episodes SET version = $4, session = $5, first_turn = $6, last_turn = $7, started_at = $8,
           ended_at = $9, source = $10, metadata = $11::jsonb, updated_at = ${NOW}
         WHERE job = $1 AND collection = $2 AND key = $3`,
        params(),
      );
    // a raw write of the version already extracted keeps its extraction; the same extraction again is done
    if (sameVersion && (hash === null || ep.extraction_hash === hash)) return;
    const touched = await this.removeExtraction(c, ep.id);
    await c.query(
      `UPDATE episodes SET summary = $2, extracted = $3, extraction_hash = $4,
         prompt_tokens = prompt_tokens + $5, completion_tokens = completion_tokens + $6, updated_at = ${NOW}
       WHERE id = $1`,
      [
        ep.id,
        w.extraction?.summary ?? null,
        w.extraction !== null,
        hash,
        w.extraction?.usage.promptTokens ?? 0,
        w.extraction?.usage.completionTokens ?? 0,
      ],
    );
    if (w.extraction !== null) await this.insertExtraction(c, w.job, ep, w.extraction, touched);
    await this.revalidate(c, touched);
  }

  /** A document's delete takes its episode and what was extracted from it. */
  async deleteEpisode(c: pg.PoolClient, job: string, collection: string, key: string): Promise<void> {
    const { rows } = await c.query<{ id: number }>(
      "SELECT id FROM episodes WHERE job = $1 AND collection = $2 AND key = $3 FOR UPDATE",
      [job, collection, key],
    );
    if (rows[0] === undefined) return;
    const touched = await this.removeExtraction(c, rows[0].id);
    await c.query("DELETE FROM episodes WHERE id = $1", [rows[0].id]);
    await this.revalidate(c, touched);
  }

  /** Deletes a job's knowledge (inside the plan store's forgetJob transaction). */
  async forgetJob(c: pg.PoolClient, job: string): Promise<void> {
    // facts, mentions and aliases go with their entities and episodes (ON DELETE CASCADE)
    await c.query("DELETE FROM facts WHERE job = $1", [job]);
    await c.query("DELETE FROM entities WHERE job = $1", [job]);
    await c.query("DELETE FROM episodes WHERE job = $1", [job]);
  }

  private async missingEpisode(c: pg.PoolClient, w: KnowledgeWrite): Promise<void> {
    const { rows } = await c.query(
      "SELECT 1 FROM documents WHERE job = $1 AND collection = $2 AND key = $3",
      [w.job, w.collection, w.key],
    );
    if (rows.length > 0)
      throw new Error(
        `knowledge write for ${w.job}/${w.collection}/${w.key} has no origin, and no episode is registered for it (the first write of an episode must carry its origin)`,
      );
  }

  /** Takes out an episode's mentions and facts; returns the groups its exclusive facts were in. */
  private async removeExtraction(
    c: pg.PoolClient,
    episodeId: number,
  ): Promise<Map<string, [number, string]>> {
    const { rows } = await c.query<{ subject_id: number; relation: string; exclusive: boolean }>(
      "DELETE FROM facts WHERE episode_id = $1 RETURNING subject_id, relation, exclusive",
      [episodeId],
    );
    await c.query("DELETE FROM mentions WHERE episode_id = $1", [episodeId]);
    const out = new Map<string, [number, string]>();
    for (const f of rows)
      if (f.exclusive) out.set(group(f.subject_id, f.relation), [f.subject_id, f.relation]);
    return out;
  }

  private async upsertEntity(
    c: pg.PoolClient,
    job: string,
    type: string,
    norm: string,
    name: string,
    description: string,
  ): Promise<{ id: number; name: string }> {
    // the longer description wins (equal lengths: the smaller text), whichever episode came first
    const { rows } = await c.query<{ id: number; name: string }>(
      `INSERT INTO entities AS e (job, type, norm_name, name, description) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (job, type, norm_name) DO UPDATE SET description = excluded.description
         WHERE length(excluded.description) > length(e.description)
           OR (length(excluded.description) = length(e.description) AND excluded.description < e.description)
       RETURNING id, name`,
      [job, type, norm, name, description],
    );
    if (rows[0] !== undefined) return rows[0];
    const again = await c.query<{ id: number; name: string }>(
      "SELECT id, name FROM entities WHERE job = $1 AND type = $2 AND norm_name = $3",
      [job, type, norm],
    );
    return again.rows[0]!;
  }

  private async insertExtraction(
    c: pg.PoolClient,
    job: string,
    ep: EpisodeRow,
    e: Extraction,
    touched: Map<string, [number, string]>,
  ): Promise<void> {
    const local = new Map<string, number>();
    const mentioned = new Set<number>();
    const upsert = async (x: { name: string; type: string; description: string }): Promise<number> => {
      const norm = normaliseName(x.name);
      const row = await this.upsertEntity(c, job, normaliseType(x.type), norm, x.name.trim(), x.description);
      if (row.name !== x.name.trim())
        await c.query(
          "INSERT INTO entity_aliases (entity_id, alias, norm) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
          [row.id, x.name.trim(), norm],
        );
      mentioned.add(row.id);
      return row.id;
    };
    // names resolve among this extraction's entities first (the first of a name in their order)
    const named = e.entities
      .map((x, i) => ({
        x,
        i,
        norm: normaliseName(x.name),
        key: `${normaliseType(x.type)}\u0000${normaliseName(x.name)}`,
      }))
      .filter((x) => x.norm !== "");
    const ids = new Map<number, number>();
    for (const x of [...named].sort(byKey)) ids.set(x.i, await upsert(x.x));
    for (const x of named) if (!local.has(x.norm)) local.set(x.norm, ids.get(x.i)!);
    // then among the job's entities by normalised name, any type; else a new concept
    const unknown = [
      ...new Set(e.facts.flatMap((f) => [f.subject, f.object]).filter((n) => !local.has(normaliseName(n)))),
    ];
    for (const name of unknown.sort()) {
      const norm = normaliseName(name);
      if (norm === "" || local.has(norm)) continue;
      const { rows } = await c.query<{ id: number }>(
        "SELECT id FROM entities WHERE job = $1 AND norm_name = $2 ORDER BY id LIMIT 1",
        [job, norm],
      );
      local.set(norm, rows[0]?.id ?? (await upsert({ name, type: "concept", description: "" })));
      mentioned.add(local.get(norm)!);
    }
    const facts = e.facts.flatMap((f) => {
      const subject = local.get(normaliseName(f.subject));
      const object = local.get(normaliseName(f.object));
      const relation = normaliseRelation(f.relation);
      if (subject === undefined || object === undefined || relation === "") return [];
      return [{ f, subject, object, relation }];
    });
    const entityIds = [...mentioned].sort((a, b) => a - b);
    await c.query(
      `INSERT INTO mentions (entity_id, episode_id) SELECT unnest($1::bigint[]), $2 ON CONFLICT DO NOTHING`,
      [entityIds, ep.id],
    );
    if (facts.length === 0) return;
    await c.query(
      `INSERT INTO facts (job, subject_id, relation, object_id, fact, valid_at, episode_id, exclusive)
       SELECT $1, s, r, o, f, v, $2, x
       FROM unnest($3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::boolean[])
         WITH ORDINALITY AS t(s, r, o, f, v, x, n)
       ORDER BY n`,
      [
        job,
        ep.id,
        facts.map((x) => x.subject),
        facts.map((x) => x.relation),
        facts.map((x) => x.object),
        facts.map((x) => x.f.fact),
        facts.map((x) => validAtOf(x.f.valid_at, ep.started_at, Date.now())),
        facts.map((x) => x.f.exclusive),
      ],
    );
    const groups = new Map(
      facts.map((x) => [group(x.subject, x.relation), [x.subject, x.relation] as [number, string]]),
    );
    const { rows } = await c.query<{ subject_id: number; relation: string }>(
      `SELECT DISTINCT f.subject_id, f.relation FROM facts f
       JOIN unnest($1::bigint[], $2::text[]) AS g(s, r) ON f.subject_id = g.s AND f.relation = g.r
       WHERE f.exclusive`,
      [[...groups.values()].map((g) => g[0]), [...groups.values()].map((g) => g[1])],
    );
    for (const r of rows) touched.set(group(r.subject_id, r.relation), [r.subject_id, r.relation]);
  }

  /**
   * A fact holds until the next exclusive fact of its subject and relation with another object: computed
   * from the group's facts alone, so the outcome does not depend on the order episodes were written in.
   */
  private async revalidate(c: pg.PoolClient, groups: Map<string, [number, string]>): Promise<void> {
    if (groups.size === 0) return;
    const list = [...groups.values()].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    await c.query(
      `UPDATE facts f SET invalid_at = n.valid_at, invalidated_by = n.id
       FROM facts f2
       JOIN unnest($1::bigint[], $2::text[]) AS g(s, r) ON f2.subject_id = g.s AND f2.relation = g.r
       LEFT JOIN LATERAL (
         SELECT x.valid_at, x.id FROM facts x
         WHERE x.subject_id = f2.subject_id AND x.relation = f2.relation AND x.exclusive
           AND x.object_id <> f2.object_id AND x.valid_at > f2.valid_at
         ORDER BY x.valid_at, x.id LIMIT 1) n ON true
       WHERE f.id = f2.id
         AND (f.invalid_at IS DISTINCT FROM n.valid_at OR f.invalidated_by IS DISTINCT FROM n.id)`,
      [list.map((g) => g[0]), list.map((g) => g[1])],
    );
  }
}
