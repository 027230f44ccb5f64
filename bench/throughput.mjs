// Section 1 (child process): engine throughput on the SQLite ledger beside the raw SQLite floor,
// both in this one process, each with its own peak-RSS mark. Usage: node bench/throughput.mjs N
import path from "node:path";
import Database from "better-sqlite3";
import {
  currentRssKiB,
  cleanEnv,
  emitResult,
  log,
  now,
  peakRssKiB,
  removeDir,
  resetPeakRss,
  tempDir,
  writeNoopConfig,
} from "./lib.mjs";
import { loadConfig, SyncService } from "../dist/index.js";

const N = Number(process.argv[2] ?? 200_000);
const INSERT_BATCH = 2000; // the engine records listings in batches of 2000 (plan-phase.ts)
const SETTLE_BATCH = 256; // and settles in groups of 256 (process-plan.ts)

// The items and fingerprints tables as src/ledger/sqlite/migrations.ts leaves them (v1, minus the index v4 drops).
const FLOOR_SCHEMA = `
  CREATE TABLE items (
    id INTEGER PRIMARY KEY, plan_id INTEGER NOT NULL, job TEXT NOT NULL, phase TEXT NOT NULL,
    key TEXT NOT NULL, version TEXT, op TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'PENDING',
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER,
    lease_owner TEXT, lease_expires_at INTEGER, fence INTEGER NOT NULL DEFAULT 0,
    reason TEXT, error_class TEXT, error_message TEXT, meta TEXT, updated_at INTEGER NOT NULL DEFAULT 0,
    UNIQUE (plan_id, key, op)
  );
  CREATE INDEX items_claim ON items (plan_id, status, id);
  CREATE TABLE fingerprints (
    job TEXT NOT NULL, phase TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL, updated_at INTEGER NOT NULL,
    PRIMARY KEY (job, phase, key)
  ) WITHOUT ROWID;
`;

/** The same transitions the engine writes (record, claim, complete + fingerprint), straight through prepared statements. */
function rawFloor(n) {
  const dir = tempDir("floor");
  try {
    const db = new Database(path.join(dir, "floor.db"));
    // the pragmas of src/ledger/sqlite/open-database.ts
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 10000");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.exec(FLOOR_SCHEMA);
    const insert = db.prepare(
      `INSERT OR IGNORE INTO items (plan_id, job, phase, key, version, op, meta, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const claim = db.prepare(
      `UPDATE items SET status = 'PROCESSING', lease_owner = ?, lease_expires_at = ?, fence = fence + 1, updated_at = ?
       WHERE id = ?`,
    );
    const complete = db.prepare(
      `UPDATE items SET status = 'COMPLETED', reason = NULL, lease_owner = NULL, lease_expires_at = NULL,
         error_class = NULL, error_message = NULL, next_attempt_at = NULL, updated_at = ?
       WHERE id = ? AND fence = 1 AND status = 'PROCESSING'`,
    );
    const fingerprint = db.prepare(
      `INSERT INTO fingerprints (job, phase, key, version, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (job, phase, key) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
    );
    const owner = `bench:${process.pid}:floor`;

    const t0 = now();
    const insertBatch = db.transaction((from, to, ts) => {
      for (let i = from; i < to; i++) insert.run(1, "bench", "noop", `item-${i}`, "1", "upsert", null, ts);
    });
    for (let i = 0; i < n; i += INSERT_BATCH) insertBatch(i, Math.min(n, i + INSERT_BATCH), Date.now());
    const claimBatch = db.transaction((from, to, ts) => {
      for (let id = from; id <= to; id++) claim.run(owner, ts + 120_000, ts, id);
    });
    const completeBatch = db.transaction((from, to, ts) => {
      for (let id = from; id <= to; id++) {
        complete.run(ts, id);
        fingerprint.run("bench", "noop", `item-${id - 1}`, "1", ts);
      }
    });
    for (let id = 1; id <= n; id += SETTLE_BATCH) {
      const last = Math.min(n, id + SETTLE_BATCH - 1);
      claimBatch.immediate(id, last, Date.now());
      completeBatch.immediate(id, last, Date.now());
    }
    const ms = now() - t0;
    const done = db.prepare("SELECT COUNT(*) AS n FROM items WHERE status = 'COMPLETED'").get().n;
    const fps = db.prepare("SELECT COUNT(*) AS n FROM fingerprints").get().n;
    db.close();
    if (done !== n || fps !== n)
      throw new Error(`floor wrote ${done} completed items and ${fps} fingerprints, expected ${n}`);
    return ms;
  } finally {
    removeDir(dir);
  }
}

async function engine(n) {
  const dir = tempDir("engine");
  try {
    const file = writeNoopConfig(dir, n, 4);
    const loaded = loadConfig(file, cleanEnv());
    const service = SyncService.open(loaded);
    let progressEvents = 0;
    service.on((e) => {
      if (e.type === "progress") progressEvents++;
    });
    // how long the event loop goes without a turn during the run (timers: progress, lease heartbeat, signals)
    let lastTick = now();
    let maxStall = 0;
    const ticker = setInterval(() => {
      const t = now();
      maxStall = Math.max(maxStall, t - lastTick);
      lastTick = t;
    }, 5);
    const t0 = now();
    lastTick = t0;
    const result = await service.execute({ job: "bench", trigger: "api" });
    const ms = now() - t0;
    maxStall = Math.max(maxStall, now() - lastTick);
    clearInterval(ticker);
    await service.close();
    const phase = result.phases[0];
    if (result.status !== "completed" || phase?.completed !== n || phase.checkpoint !== "t1") {
      throw new Error(`engine run did not complete ${n} items: ${JSON.stringify(result)}`);
    }
    return { ms, progressEvents, maxEventLoopStallMs: maxStall };
  } finally {
    removeDir(dir);
  }
}

/** Settles the heap (when run with --expose-gc) and restarts the peak-RSS mark for the next phase. */
function startPhase() {
  globalThis.gc?.();
  return resetPeakRss();
}

const baseRss = currentRssKiB();
const peakResettable = startPhase();

log(`throughput: raw SQLite floor, ${N} items`);
const floorMs = rawFloor(N);
const floorPeak = peakRssKiB();
log(`throughput: floor ${(floorMs / 1000).toFixed(2)}s (${Math.round(N / (floorMs / 1000))} items/s)`);

startPhase();
log(`throughput: engine (SyncService.execute, no-op module source and sink, max_workers 4), ${N} items`);
const eng = await engine(N);
const enginePeak = peakRssKiB();
log(`throughput: engine ${(eng.ms / 1000).toFixed(2)}s (${Math.round(N / (eng.ms / 1000))} items/s)`);

emitResult({
  items: N,
  baseRssKiB: baseRss,
  peakResettable,
  floor: { ms: floorMs, peakRssKiB: floorPeak },
  engine: {
    ms: eng.ms,
    peakRssKiB: enginePeak,
    progressEvents: eng.progressEvents,
    maxEventLoopStallMs: eng.maxEventLoopStallMs,
  },
});
