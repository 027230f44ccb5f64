import type Database from "better-sqlite3";

/** Forward-only schema versions; a version, once released, is never edited. */
const MIGRATIONS: readonly string[] = [
  /* 1: the core ledger and the embedded document store */ `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY, job TEXT NOT NULL, trigger TEXT NOT NULL, owner TEXT NOT NULL,
    started_at INTEGER NOT NULL, finished_at INTEGER, status TEXT, result TEXT
  );
  CREATE INDEX runs_job ON runs (job, started_at);

  CREATE TABLE plans (
    id INTEGER PRIMARY KEY, job TEXT NOT NULL, phase TEXT NOT NULL, scope TEXT NOT NULL,
    from_checkpoint TEXT, target TEXT, mode TEXT NOT NULL, state TEXT NOT NULL,
    created_at INTEGER NOT NULL, closed_at INTEGER
  );
  CREATE INDEX plans_ref ON plans (job, phase, scope, state);

  CREATE TABLE items (
    id INTEGER PRIMARY KEY, plan_id INTEGER NOT NULL, job TEXT NOT NULL, phase TEXT NOT NULL,
    key TEXT NOT NULL, version TEXT, op TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'PENDING',
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER,
    lease_owner TEXT, lease_expires_at INTEGER, fence INTEGER NOT NULL DEFAULT 0,
    reason TEXT, error_class TEXT, error_message TEXT, meta TEXT, updated_at INTEGER NOT NULL DEFAULT 0,
    UNIQUE (plan_id, key, op)
  );
  CREATE INDEX items_claim ON items (plan_id, status, id);
  CREATE INDEX items_lease ON items (lease_owner) WHERE lease_owner IS NOT NULL;

  CREATE TABLE fingerprints (
    job TEXT NOT NULL, phase TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (job, phase, key)
  ) WITHOUT ROWID;

  CREATE TABLE checkpoints (
    job TEXT NOT NULL, phase TEXT NOT NULL, scope TEXT NOT NULL, value TEXT NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (job, phase, scope)
  ) WITHOUT ROWID;

  CREATE TABLE events (
    id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, run_id TEXT, job TEXT, level TEXT NOT NULL,
    type TEXT NOT NULL, message TEXT NOT NULL, data TEXT
  );
  CREATE INDEX events_job_ts ON events (job, ts);

  CREATE TABLE metadata (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

  CREATE TABLE documents (
    id INTEGER PRIMARY KEY, job TEXT NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL,
    version TEXT NOT NULL, metadata TEXT, updated_at INTEGER NOT NULL,
    UNIQUE (job, collection, key)
  );
  CREATE TABLE chunks (
    id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    ord INTEGER NOT NULL, content TEXT NOT NULL
  );
  CREATE INDEX chunks_document ON chunks (document_id);
  CREATE VIRTUAL TABLE chunks_fts USING fts5 (content, content='chunks', content_rowid='id');
  CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts (rowid, content) VALUES (new.id, new.content);
  END;
  CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts (chunks_fts, rowid, content) VALUES ('delete', old.id, old.content);
  END;
  `,
  /* 2: resilience state shared by every process (breakers, probe leases, rate gates), debts, vectors */ `
  CREATE TABLE breakers (
    provider TEXT PRIMARY KEY, state TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0, opened_at INTEGER, open_until INTEGER,
    reopen_count INTEGER NOT NULL DEFAULT 0, isolated INTEGER NOT NULL DEFAULT 0, reason TEXT,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE breaker_probes (
    provider TEXT NOT NULL, owner TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (provider, owner)
  ) WITHOUT ROWID;
  CREATE TABLE rate_gates (
    provider TEXT PRIMARY KEY, paused_until INTEGER NOT NULL DEFAULT 0, reason TEXT,
    tokens REAL, refilled_at INTEGER, updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE debts (
    id INTEGER PRIMARY KEY, job TEXT NOT NULL, phase TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL,
    step INTEGER NOT NULL, provider TEXT, reason TEXT, attempts INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    UNIQUE (job, phase, key, step)
  );
  CREATE TABLE vectors (
    document_id INTEGER PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    model TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL
  );
  `,
  /* 3: one runner per job across processes: a lease with a fencing token */ `
  CREATE TABLE job_locks (
    job TEXT PRIMARY KEY, owner TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
    started_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    fence INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE lock_fences (job TEXT PRIMARY KEY, fence INTEGER NOT NULL) WITHOUT ROWID;
  `,
  /* 4: leases are found by plan and status (the claim index); this index only cost writes */ `
  DROP INDEX items_lease;
  `,
  /* the registry of sqlite-vec KNN indexes over vectors: one vec0 table per (model, dim), made when first needed */ `
  CREATE TABLE IF NOT EXISTS vector_indexes (
    name TEXT PRIMARY KEY, model TEXT NOT NULL, dim INTEGER NOT NULL, stale INTEGER NOT NULL DEFAULT 0,
    UNIQUE (model, dim)
  );
  `,
  /* code-aware chunks: where each chunk is in its file (lines), the symbol it defines and the file's language */ `
  ALTER TABLE chunks ADD COLUMN start_line INTEGER;
  ALTER TABLE chunks ADD COLUMN end_line INTEGER;
  ALTER TABLE chunks ADD COLUMN symbol TEXT;
  ALTER TABLE chunks ADD COLUMN language TEXT;
  `,
  /* a plan made by a forced run says so: workers that join it reprocess unchanged items too */ `
  ALTER TABLE plans ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
  `,
  /* 8: the knowledge store: episodes of agent sessions, entities (unique by job, type and normalised name),
        their aliases and mentions, dated facts between them, and FTS5 indexes kept by triggers */ `
  CREATE TABLE episodes (
    id INTEGER PRIMARY KEY, job TEXT NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL,
    session TEXT, first_turn INTEGER, last_turn INTEGER, started_at INTEGER, ended_at INTEGER, source TEXT,
    metadata TEXT, summary TEXT, extracted INTEGER NOT NULL DEFAULT 0, extraction_hash TEXT,
    prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    UNIQUE (job, collection, key)
  );
  CREATE INDEX episodes_session ON episodes (session, started_at);
  CREATE INDEX episodes_time ON episodes (job, started_at);
  CREATE TABLE entities (
    id INTEGER PRIMARY KEY, job TEXT NOT NULL, type TEXT NOT NULL, norm_name TEXT NOT NULL, name TEXT NOT NULL,
    description TEXT NOT NULL,
    UNIQUE (job, type, norm_name)
  );
  CREATE INDEX entities_name ON entities (norm_name, job);
  CREATE TABLE entity_aliases (
    entity_id INTEGER NOT NULL REFERENCES entities (id) ON DELETE CASCADE, alias TEXT NOT NULL,
    norm TEXT NOT NULL,
    PRIMARY KEY (entity_id, alias)
  ) WITHOUT ROWID;
  CREATE TABLE mentions (
    entity_id INTEGER NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    episode_id INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    PRIMARY KEY (entity_id, episode_id)
  ) WITHOUT ROWID;
  CREATE INDEX mentions_episode ON mentions (episode_id);
  CREATE TABLE facts (
    id INTEGER PRIMARY KEY, job TEXT NOT NULL,
    subject_id INTEGER NOT NULL REFERENCES entities (id) ON DELETE CASCADE, relation TEXT NOT NULL,
    object_id INTEGER NOT NULL REFERENCES entities (id) ON DELETE CASCADE, fact TEXT NOT NULL,
    valid_at INTEGER NOT NULL, invalid_at INTEGER, invalidated_by INTEGER,
    episode_id INTEGER NOT NULL REFERENCES episodes (id) ON DELETE CASCADE, exclusive INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX facts_subject ON facts (subject_id, relation, exclusive, valid_at);
  CREATE INDEX facts_object ON facts (object_id);
  CREATE INDEX facts_episode ON facts (episode_id);

  CREATE VIRTUAL TABLE episodes_fts USING fts5 (summary);
  CREATE TRIGGER episodes_fts_ai AFTER INSERT ON episodes WHEN new.summary IS NOT NULL BEGIN
    INSERT INTO episodes_fts (rowid, summary) VALUES (new.id, new.summary);
  END;
  CREATE TRIGGER episodes_fts_au AFTER UPDATE OF summary ON episodes BEGIN
    DELETE FROM episodes_fts WHERE rowid = old.id;
    INSERT INTO episodes_fts (rowid, summary) SELECT new.id, new.summary WHERE new.summary IS NOT NULL;
  END;
  CREATE TRIGGER episodes_fts_ad AFTER DELETE ON episodes BEGIN
    DELETE FROM episodes_fts WHERE rowid = old.id;
  END;

  CREATE VIRTUAL TABLE entities_fts USING fts5 (name, aliases, description);
  CREATE TRIGGER entities_fts_ai AFTER INSERT ON entities BEGIN
    INSERT INTO entities_fts (rowid, name, aliases, description) VALUES (new.id, new.name, '', new.description);
  END;
  CREATE TRIGGER entities_fts_au AFTER UPDATE ON entities BEGIN
    DELETE FROM entities_fts WHERE rowid = old.id;
    INSERT INTO entities_fts (rowid, name, aliases, description) VALUES (new.id, new.name,
      (SELECT COALESCE(group_concat(alias, ' '), '') FROM entity_aliases WHERE entity_id = new.id), new.description);
  END;
  CREATE TRIGGER entities_fts_ad AFTER DELETE ON entities BEGIN
    DELETE FROM entities_fts WHERE rowid = old.id;
  END;
  CREATE TRIGGER entity_aliases_fts_ai AFTER INSERT ON entity_aliases BEGIN
    DELETE FROM entities_fts WHERE rowid = new.entity_id;
    INSERT INTO entities_fts (rowid, name, aliases, description)
      SELECT e.id, e.name, (SELECT group_concat(alias, ' ') FROM entity_aliases WHERE entity_id = e.id), e.description
      FROM entities e WHERE e.id = new.entity_id;
  END;

  CREATE VIRTUAL TABLE facts_fts USING fts5 (subject, relation, object, fact);
  CREATE TRIGGER facts_fts_ai AFTER INSERT ON facts BEGIN
    INSERT INTO facts_fts (rowid, subject, relation, object, fact) VALUES (new.id,
      (SELECT name FROM entities WHERE id = new.subject_id), new.relation,
      (SELECT name FROM entities WHERE id = new.object_id), new.fact);
  END;
  CREATE TRIGGER facts_fts_ad AFTER DELETE ON facts BEGIN
    DELETE FROM facts_fts WHERE rowid = old.id;
  END;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies every migration past the database's `user_version`, each in its own transaction. */
export function migrate(db: Database.Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `the state database is at schema version ${current}, newer than this syncwarden (${MIGRATIONS.length}); upgrade syncwarden`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      // another process may have migrated while we waited for the write lock
      if ((db.pragma("user_version", { simple: true }) as number) > v) return;
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
