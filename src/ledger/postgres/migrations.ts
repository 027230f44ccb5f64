import type pg from "pg";

/**
 * Forward-only schema versions of the PostgreSQL ledger; a version, once released, is never edited.
 * Times are BIGINT milliseconds since the epoch by the server's clock (as in the SQLite ledger), so
 * every store computes leases and expiries the same way on both.
 */
const MIGRATIONS: readonly string[] = [
  /* 1: the whole ledger: runs, plans and items with leases and fences, checkpoints, events, metadata,
        resilience state shared by every worker, debts, job locks, workers, and the document store */ `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY, job TEXT NOT NULL, trigger TEXT NOT NULL, owner TEXT NOT NULL,
    started_at BIGINT NOT NULL, finished_at BIGINT, status TEXT, result JSONB
  );
  CREATE INDEX runs_job ON runs (job, started_at);
  CREATE INDEX runs_unfinished ON runs (started_at) WHERE finished_at IS NULL;

  CREATE TABLE plans (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job TEXT NOT NULL, phase TEXT NOT NULL,
    scope TEXT NOT NULL, from_checkpoint TEXT, target TEXT, mode TEXT NOT NULL,
    forced BOOLEAN NOT NULL DEFAULT false, state TEXT NOT NULL, created_at BIGINT NOT NULL, closed_at BIGINT
  );
  CREATE INDEX plans_ref ON plans (job, phase, scope, state);

  CREATE TABLE items (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, plan_id BIGINT NOT NULL, job TEXT NOT NULL,
    phase TEXT NOT NULL, key TEXT NOT NULL, version TEXT, op TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'PENDING', attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at BIGINT,
    lease_owner TEXT, lease_expires_at BIGINT, fence BIGINT NOT NULL DEFAULT 0,
    reason TEXT, error_class TEXT, error_message TEXT, meta JSONB, updated_at BIGINT NOT NULL DEFAULT 0,
    UNIQUE (plan_id, key, op)
  );
  CREATE INDEX items_claim ON items (plan_id, status, id);
  CREATE INDEX items_status ON items (status, job);

  CREATE TABLE fingerprints (
    job TEXT NOT NULL, phase TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL, updated_at BIGINT NOT NULL,
    PRIMARY KEY (job, phase, key)
  );
  CREATE TABLE checkpoints (
    job TEXT NOT NULL, phase TEXT NOT NULL, scope TEXT NOT NULL, value TEXT NOT NULL, updated_at BIGINT NOT NULL,
    PRIMARY KEY (job, phase, scope)
  );

  CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ts BIGINT NOT NULL, run_id TEXT, job TEXT,
    level TEXT NOT NULL, type TEXT NOT NULL, message TEXT NOT NULL, data JSONB
  );
  CREATE INDEX events_job_ts ON events (job, ts);
  CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE breakers (
    provider TEXT PRIMARY KEY, state TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0, opened_at BIGINT, open_until BIGINT,
    reopen_count INTEGER NOT NULL DEFAULT 0, isolated BOOLEAN NOT NULL DEFAULT false, reason TEXT,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE breaker_probes (
    provider TEXT NOT NULL, owner TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (provider, owner)
  );
  CREATE TABLE rate_gates (
    provider TEXT PRIMARY KEY, paused_until BIGINT NOT NULL DEFAULT 0, reason TEXT,
    tokens DOUBLE PRECISION, refilled_at BIGINT, updated_at BIGINT NOT NULL
  );
  CREATE TABLE debts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job TEXT NOT NULL, phase TEXT NOT NULL,
    key TEXT NOT NULL, version TEXT NOT NULL, step INTEGER NOT NULL, provider TEXT, reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
    UNIQUE (job, phase, key, step)
  );

  CREATE TABLE job_locks (
    job TEXT PRIMARY KEY, owner TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
    started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, fence BIGINT NOT NULL
  );
  CREATE TABLE lock_fences (job TEXT PRIMARY KEY, fence BIGINT NOT NULL);

  CREATE TABLE documents (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job TEXT NOT NULL, collection TEXT NOT NULL,
    key TEXT NOT NULL, version TEXT NOT NULL, metadata JSONB, updated_at BIGINT NOT NULL,
    UNIQUE (job, collection, key)
  );
  CREATE TABLE chunks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id BIGINT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL, content TEXT NOT NULL,
    start_line INTEGER, end_line INTEGER, symbol TEXT, language TEXT,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple',
      regexp_replace(content, '[\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e]', ' ', 'g'))) STORED
  );
  CREATE INDEX chunks_document ON chunks (document_id);
  CREATE INDEX chunks_tsv ON chunks USING GIN (tsv);
  CREATE TABLE vectors (
    document_id BIGINT PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    model TEXT NOT NULL, dim INTEGER NOT NULL, vector REAL[] NOT NULL
  );
  `,
  /* 2: the knowledge store: episodes of agent sessions, entities (unique by job, type and normalised name),
        their aliases and mentions, dated facts between them; generated tsvectors with GIN indexes */ `
  CREATE TABLE episodes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job TEXT NOT NULL, collection TEXT NOT NULL,
    key TEXT NOT NULL, version TEXT NOT NULL, session TEXT, first_turn INTEGER, last_turn INTEGER,
    started_at BIGINT, ended_at BIGINT, source TEXT, metadata JSONB, summary TEXT,
    extracted BOOLEAN NOT NULL DEFAULT false, extraction_hash TEXT, prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0, updated_at BIGINT NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple',
      regexp_replace(coalesce(summary, ''), '[\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e]', ' ', 'g'))) STORED,
    UNIQUE (job, collection, key)
  );
  CREATE INDEX episodes_session ON episodes (session, started_at);
  CREATE INDEX episodes_time ON episodes (job, started_at);
  CREATE INDEX episodes_tsv ON episodes USING GIN (tsv);
  CREATE TABLE entities (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job TEXT NOT NULL, type TEXT NOT NULL,
    norm_name TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (
      setweight(to_tsvector('simple', regexp_replace(name, '[\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e]', ' ', 'g')), 'A') ||
      setweight(to_tsvector('simple', regexp_replace(description, '[\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e]', ' ', 'g')), 'C')) STORED,
    UNIQUE (job, type, norm_name)
  );
  CREATE INDEX entities_name ON entities (norm_name, job);
  CREATE INDEX entities_tsv ON entities USING GIN (tsv);
  CREATE TABLE entity_aliases (
    entity_id BIGINT NOT NULL REFERENCES entities (id) ON DELETE CASCADE, alias TEXT NOT NULL, norm TEXT NOT NULL,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', regexp_replace(alias, '[\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e]', ' ', 'g'))) STORED,
    PRIMARY KEY (entity_id, alias)
  );
  CREATE INDEX entity_aliases_tsv ON entity_aliases USING GIN (tsv);
  CREATE TABLE mentions (
    entity_id BIGINT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    episode_id BIGINT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    PRIMARY KEY (entity_id, episode_id)
  );
  CREATE INDEX mentions_episode ON mentions (episode_id);
  CREATE TABLE facts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, job TEXT NOT NULL,
    subject_id BIGINT NOT NULL REFERENCES entities (id) ON DELETE CASCADE, relation TEXT NOT NULL,
    object_id BIGINT NOT NULL REFERENCES entities (id) ON DELETE CASCADE, fact TEXT NOT NULL,
    valid_at BIGINT NOT NULL, invalid_at BIGINT, invalidated_by BIGINT,
    episode_id BIGINT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    exclusive BOOLEAN NOT NULL DEFAULT false,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple',
      regexp_replace(relation || ' ' || fact, '[\\x21-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7e]', ' ', 'g'))) STORED
  );
  CREATE INDEX facts_subject ON facts (subject_id, relation, exclusive, valid_at);
  CREATE INDEX facts_object ON facts (object_id);
  CREATE INDEX facts_episode ON facts (episode_id);
  CREATE INDEX facts_tsv ON facts USING GIN (tsv);
  `,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Applies every version past the schema's, under a transaction-scoped advisory lock keyed by the schema,
 * so many workers starting at once migrate once (the others wait, then find nothing to do).
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    await c.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`syncwarden-migrate:${schema}`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${quote(schema)}`);
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${quote(schema)}.schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const { rows } = await c.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${quote(schema)}.schema_migrations`,
    );
    const current = rows[0]?.v ?? 0;
    if (current > MIGRATIONS.length)
      throw new Error(
        `the ledger's schema ${schema} is at version ${current}, newer than this syncwarden (${MIGRATIONS.length}); upgrade syncwarden`,
      );
    await c.query(`SET LOCAL search_path TO ${quote(schema)}`);
    for (let v = current; v < MIGRATIONS.length; v++) {
      await c.query(MIGRATIONS[v]!);
      await c.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [v + 1]);
    }
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}
