import { createHash } from "node:crypto";
import type { EntityRecord, EpisodeRecord, Extraction, FactRecord } from "./knowledge.js";

/**
 * Knowledge rows as both implementations select them (snake_case columns), into the store's records.
 * `json` decodes a JSON column: SQLite keeps text, PostgreSQL's JSONB (and json_agg) come back parsed.
 */
type Row = Record<string, unknown>;
type JsonColumn = (value: unknown) => unknown;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export const episodeRecord = (r: Row, json: JsonColumn): EpisodeRecord => ({
  job: r.job as string,
  collection: r.collection as string,
  key: r.key as string,
  version: r.version as string,
  session: (r.session as string | null) ?? null,
  firstTurn: num(r.first_turn),
  lastTurn: num(r.last_turn),
  startedAt: num(r.started_at),
  endedAt: num(r.ended_at),
  source: (r.source as string | null) ?? null,
  metadata:
    r.metadata === null || r.metadata === undefined ? {} : (json(r.metadata) as Record<string, unknown>),
  summary: (r.summary as string | null) ?? null,
  extracted: r.extracted === true || r.extracted === 1,
  promptTokens: Number(r.prompt_tokens),
  completionTokens: Number(r.completion_tokens),
});

export const entityRecord = (r: Row, json: JsonColumn): EntityRecord => ({
  id: Number(r.id),
  job: r.job as string,
  name: r.name as string,
  type: r.type as string,
  description: r.description as string,
  aliases: r.aliases === null || r.aliases === undefined ? [] : (json(r.aliases) as string[]),
  mentions: Number(r.mentions),
});

export const factRecord = (r: Row): FactRecord => ({
  id: Number(r.id),
  job: r.job as string,
  subjectId: Number(r.subject_id),
  subject: r.subject as string,
  relation: r.relation as string,
  objectId: Number(r.object_id),
  object: r.object as string,
  fact: r.fact as string,
  validAt: Number(r.valid_at),
  invalidAt: num(r.invalid_at),
  episode: { collection: r.episode_collection as string, key: r.episode_key as string },
});

/** The SELECT list of an episode row `ep`. */
export const EPISODE_COLUMNS =
  "ep.id, ep.job, ep.collection, ep.key, ep.version, ep.session, ep.first_turn, ep.last_turn, ep.started_at, " +
  "ep.ended_at, ep.source, ep.metadata, ep.summary, ep.extracted, ep.prompt_tokens, ep.completion_tokens";

/** The SELECT list of a fact `f` joined to its subject `s`, object `o` and episode `ep`. */
export const FACT_COLUMNS =
  "f.id, f.job, f.subject_id, s.name AS subject, f.relation, f.object_id, o.name AS object, f.fact, " +
  "f.valid_at, f.invalid_at, ep.collection AS episode_collection, ep.key AS episode_key";

/** The joins FACT_COLUMNS reads. */
export const FACT_JOINS =
  "JOIN entities s ON s.id = f.subject_id JOIN entities o ON o.id = f.object_id JOIN episodes ep ON ep.id = f.episode_id";

/** An entity type as stored: lower-case, trimmed; "concept" when empty. */
export const normaliseType = (type: string): string =>
  type.normalize("NFKC").trim().toLowerCase() || "concept";

/** valid_at as epoch ms: the ISO time the LLM gave, else the episode's start, else `fallback`. */
export function validAtOf(iso: string | null, startedAt: number | null, fallback: number): number {
  const t = iso === null ? NaN : Date.parse(iso);
  return Number.isFinite(t) ? t : (startedAt ?? fallback);
}

/** What identifies an extraction's content: the same write applied again (a retried commit) is a no-op. */
export const extractionHash = (e: Extraction): string =>
  createHash("sha256").update(JSON.stringify(e)).digest("hex");
