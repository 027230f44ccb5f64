import type Database from "better-sqlite3";
import { normaliseName, normaliseRelation } from "../entity-name.js";
import type { EpisodeOrigin, Extraction, KnowledgeWrite } from "../knowledge.js";
import { extractionHash, normaliseType, validAtOf } from "../knowledge-rows.js";

interface EpisodeRow {
  id: number;
  version: string;
  extraction_hash: string | null;
  started_at: number | null;
}

/** A group of facts that can contradict each other: one subject, one relation. */
type Group = `${number}:${string}`;
const group = (subject: number, relation: string): Group => `${subject}:${relation}`;

/**
 * Applies knowledge writes inside the document store's transaction (a settlement's, or `write`'s), so an
 * episode's knowledge commits with its item. Every statement is synchronous (better-sqlite3).
 */
export class SqliteKnowledgeWriter {
  private readonly findEpisode;
  private readonly upsertEpisode;
  private readonly setExtraction;
  private readonly upsertEntity;
  private readonly findEntity;
  private readonly findJobEntity;
  private readonly addAlias;
  private readonly addMention;
  private readonly insertFact;
  private readonly hasExclusive;
  private readonly revalidate;

  constructor(private readonly db: Database.Database) {
    this.findEpisode = db.prepare<[string, string, string], EpisodeRow>(
      "SELECT id, version, extraction_hash, started_at FROM episodes WHERE job = ? AND collection = ? AND key = ?",
    );
    this.upsertEpisode = db.prepare(
      `INSERT INTO episodes (job, collection, key, version, session, first_turn, last_turn, started_at, ended_at,
         source, metadata, updated_at)
       VALUES (@job, @collection, @key, @version, @session, @firstTurn, @lastTurn, @startedAt, @endedAt, @source,
         @metadata, @now)
       ON CONFLICT (job, collection, key) DO UPDATE SET version = excluded.version, session = excluded.session,
         first_turn = excluded.first_turn, last_turn = excluded.last_turn, started_at = excluded.started_at,
         ended_at = excluded.ended_at, source = excluded.source, metadata = excluded.metadata,
         updated_at = excluded.updated_at`,
    );
    this.setExtraction = db.prepare(
      `UPDATE episodes SET summary = @summary, extracted = @extracted, extraction_hash = @hash,
         prompt_tokens = prompt_tokens + @prompt, completion_tokens = completion_tokens + @completion,
         updated_at = @now
       WHERE id = @id`,
    );
    // the longer description wins (equal lengths: the smaller text), whichever episode came first
    this.upsertEntity = db.prepare<[string, string, string, string, string], { id: number; name: string }>(
      `INSERT INTO entities (job, type, norm_name, name, description) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (job, type, norm_name) DO UPDATE SET description = excluded.description
         WHERE length(excluded.description) > length(entities.description)
           OR (length(excluded.description) = length(entities.description) AND excluded.description < entities.description)
       RETURNING id, name`,
    );
    this.findEntity = db.prepare<[string, string, string], { id: number; name: string }>(
      "SELECT id, name FROM entities WHERE job = ? AND type = ? AND norm_name = ?",
    );
    this.findJobEntity = db.prepare<[string, string], { id: number }>(
      "SELECT id FROM entities WHERE job = ? AND norm_name = ? ORDER BY id LIMIT 1",
    );
    this.addAlias = db.prepare<[number, string, string]>(
      "INSERT INTO entity_aliases (entity_id, alias, norm) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    );
    this.addMention = db.prepare<[number, number]>(
      "INSERT INTO mentions (entity_id, episode_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
    );
    this.insertFact = db.prepare(
      `INSERT INTO facts (job, subject_id, relation, object_id, fact, valid_at, episode_id, exclusive)
       VALUES (@job, @subject, @relation, @object, @fact, @validAt, @episode, @exclusive)`,
    );
    this.hasExclusive = db
      .prepare<[number, string], number>(
        "SELECT 1 FROM facts WHERE subject_id = ? AND relation = ? AND exclusive = 1 LIMIT 1",
      )
      .pluck();
    // a fact holds until the next exclusive fact of its subject and relation with another object: computed
    // from the group's facts alone, so the outcome does not depend on the order episodes were written in
    this.revalidate = db.prepare<[number, string]>(
      `UPDATE facts SET (invalid_at, invalidated_by) = (
         SELECT g.valid_at, g.id FROM facts g
         WHERE g.subject_id = facts.subject_id AND g.relation = facts.relation AND g.exclusive = 1
           AND g.object_id <> facts.object_id AND g.valid_at > facts.valid_at
         ORDER BY g.valid_at, g.id LIMIT 1)
       WHERE subject_id = ? AND relation = ?`,
    );
  }

  /**
   * One episode's knowledge (see KnowledgeWrite): the same write twice changes nothing; a debt paid for a
   * version that is no longer the episode's is dropped, as a late vector is.
   */
  apply(w: KnowledgeWrite, now: number): void {
    const ep = this.findEpisode.get(w.job, w.collection, w.key);
    if (w.origin === undefined) {
      if (ep === undefined) return this.missingEpisode(w);
      if (ep.version !== w.version) return;
    }
    const hash = w.extraction === null ? null : extractionHash(w.extraction);
    const sameVersion = ep?.version === w.version;
    if (w.origin !== undefined) this.register(w, w.origin, now);
    // a raw write of the version already extracted keeps its extraction; the same extraction again is done
    if (sameVersion && (hash === null || ep.extraction_hash === hash)) return;
    const id = ep?.id ?? this.findEpisode.get(w.job, w.collection, w.key)!.id;
    const touched = this.removeExtraction(id);
    this.setExtraction.run({
      id,
      summary: w.extraction?.summary ?? null,
      extracted: w.extraction === null ? 0 : 1,
      hash,
      prompt: w.extraction?.usage.promptTokens ?? 0,
      completion: w.extraction?.usage.completionTokens ?? 0,
      now,
    });
    if (w.extraction !== null) {
      const startedAt = w.origin === undefined ? (ep?.started_at ?? null) : w.origin.startedAt;
      this.insertExtraction(w.job, id, w.extraction, startedAt, now, touched);
    }
    this.revalidateGroups(touched);
  }

  /** A document's delete takes its episode and what was extracted from it. */
  deleteEpisode(job: string, collection: string, key: string): void {
    const ep = this.findEpisode.get(job, collection, key);
    if (ep === undefined) return;
    const touched = this.removeExtraction(ep.id);
    this.db.prepare("DELETE FROM episodes WHERE id = ?").run(ep.id);
    this.revalidateGroups(touched);
  }

  /** Deletes a job's knowledge (inside the ledger's forgetJob transaction). */
  forgetJob(job: string): void {
    this.db.prepare("DELETE FROM facts WHERE job = ?").run(job);
    this.db
      .prepare("DELETE FROM mentions WHERE episode_id IN (SELECT id FROM episodes WHERE job = ?)")
      .run(job);
    this.db
      .prepare("DELETE FROM entity_aliases WHERE entity_id IN (SELECT id FROM entities WHERE job = ?)")
      .run(job);
    this.db.prepare("DELETE FROM entities WHERE job = ?").run(job);
    this.db.prepare("DELETE FROM episodes WHERE job = ?").run(job);
  }

  /** A debt paid for an episode never registered: nothing to add to if its document is gone too. */
  private missingEpisode(w: KnowledgeWrite): void {
    const doc = this.db
      .prepare("SELECT 1 FROM documents WHERE job = ? AND collection = ? AND key = ?")
      .get(w.job, w.collection, w.key);
    if (doc !== undefined)
      throw new Error(
        `knowledge write for ${w.job}/${w.collection}/${w.key} has no origin, and no episode is registered for it (the first write of an episode must carry its origin)`,
      );
  }

  private register(w: KnowledgeWrite, o: EpisodeOrigin, now: number): void {
    this.upsertEpisode.run({
      job: w.job,
      collection: w.collection,
      key: w.key,
      version: w.version,
      session: o.session,
      firstTurn: o.firstTurn,
      lastTurn: o.lastTurn,
      startedAt: o.startedAt,
      endedAt: o.endedAt,
      source: o.source,
      metadata: JSON.stringify(o.metadata),
      now,
    });
  }

  /** Takes out an episode's mentions and facts; returns the groups its exclusive facts were in. */
  private removeExtraction(episodeId: number): Set<Group> {
    const gone = this.db
      .prepare<[number], { subject_id: number; relation: string; exclusive: number }>(
        "DELETE FROM facts WHERE episode_id = ? RETURNING subject_id, relation, exclusive",
      )
      .all(episodeId);
    this.db.prepare("DELETE FROM mentions WHERE episode_id = ?").run(episodeId);
    return new Set(gone.filter((f) => f.exclusive === 1).map((f) => group(f.subject_id, f.relation)));
  }

  private insertExtraction(
    job: string,
    episodeId: number,
    e: Extraction,
    startedAt: number | null,
    now: number,
    touched: Set<Group>,
  ): void {
    // names resolve among this extraction's entities first (in their order), then among the job's
    const local = new Map<string, number>();
    const entity = (name: string, type: string, description: string): number | undefined => {
      const norm = normaliseName(name);
      if (norm === "") return undefined;
      const t = normaliseType(type);
      const row =
        this.upsertEntity.get(job, t, norm, name.trim(), description) ?? this.findEntity.get(job, t, norm)!;
      if (row.name !== name.trim()) this.addAlias.run(row.id, name.trim(), norm);
      this.addMention.run(row.id, episodeId);
      if (!local.has(norm)) local.set(norm, row.id);
      return row.id;
    };
    for (const x of e.entities) entity(x.name, x.type, x.description);
    const resolve = (name: string): number | undefined => {
      const norm = normaliseName(name);
      if (norm === "") return undefined;
      const id = local.get(norm) ?? this.findJobEntity.get(job, norm)?.id;
      if (id === undefined) return entity(name, "concept", "");
      this.addMention.run(id, episodeId);
      return id;
    };
    for (const f of e.facts) {
      const subject = resolve(f.subject);
      const object = resolve(f.object);
      const relation = normaliseRelation(f.relation);
      if (subject === undefined || object === undefined || relation === "") continue;
      this.insertFact.run({
        job,
        subject,
        relation,
        object,
        fact: f.fact,
        validAt: validAtOf(f.valid_at, startedAt, now),
        episode: episodeId,
        exclusive: f.exclusive ? 1 : 0,
      });
      if (f.exclusive || this.hasExclusive.get(subject, relation) !== undefined)
        touched.add(group(subject, relation));
    }
  }

  /** Recomputes validity in each group that holds (or held) an exclusive fact; other facts are always valid. */
  private revalidateGroups(groups: Set<Group>): void {
    for (const g of groups) {
      const at = g.indexOf(":");
      const subject = Number(g.slice(0, at));
      const relation = g.slice(at + 1);
      this.revalidate.run(subject, relation);
    }
  }
}
