// Snapshots of a live SQLite database under a steady writer (issue 14, item 4): how long each way of
// taking one lasts, and whether the copy is consistent (integrity_check ok, its rows a prefix of what
// the writer wrote). Runnable alone after `npm run build`, bounded (each snapshot is abandoned after
// SNAPSHOT_CAP_MS; about 3½ minutes with the defaults):
//   node bench/sqlite-snapshot.mjs [rows] [rounds] [journal]
// rows: rows of ~200 bytes in the source (default 400,000, about 78 MB); rounds: with the writer, per
// method (default 3); journal: wal (default, as the ledger) or delete. Each method also runs once with
// nobody writing (the floor). `--writer FILE` is the writer child: one row per transaction every 2 ms.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const Database = require("better-sqlite3");
const SELF = fileURLToPath(import.meta.url);
// the code users run: build it first (npm run build)
const { backupSqlite } = await import(new URL("../dist/sqlite-backup.js", import.meta.url).href);
const SNAPSHOT_CAP_MS = 20_000;
const PAYLOAD = "x".repeat(180);

/** The writer child: appends a row with the next id every 2 ms, one transaction each, until stopped (at most 10 minutes). */
function writer(file) {
  const db = new Database(file);
  db.pragma("busy_timeout = 10000");
  const insert = db.prepare("INSERT INTO t (id, payload) VALUES (?, ?)");
  let id = db.prepare("SELECT COALESCE(MAX(id), 0) FROM t").pluck().get();
  const end = Date.now() + 600_000;
  const timer = setInterval(() => {
    insert.run(++id, PAYLOAD);
    if (Date.now() > end) clearInterval(timer);
  }, 2);
  process.send?.("ready");
}

const METHODS = {
  /** What sqlite-copy.ts did: 100 pages per event-loop turn; a write between steps restarts it. */
  "backup(), default 100 pages per step": (src, dest) => src.backup(dest, { progress: capped() }),
  /** A larger page budget per step (5,000 pages = 20 MB at 4 KiB). */
  "backup(), progress → 5,000 pages per step": (src, dest) => src.backup(dest, { progress: capped(5000) }),
  /** What syncwarden runs (src/sqlite-backup.ts, built): 1,000 pages per step, all the rest at once after a restart. */
  "syncwarden's backupSqlite(): 1,000 pages per step, all at once after a restart": (src, dest) =>
    backupSqlite(src, dest),
  /** Every page in one step (the largest step better-sqlite3 takes; returning 0 would pause it). */
  "backup(), progress → all pages in one step": (src, dest) =>
    src.backup(dest, { progress: capped(0x7fffffff) }),
  /** One read transaction writing a compacted copy. */
  "VACUUM INTO": (src, dest) => {
    src.prepare("VACUUM INTO ?").run(dest);
    return Promise.resolve();
  },
};

/** A progress callback that sets the step size and abandons the backup after the cap. */
function capped(pages) {
  const started = Date.now();
  return () => {
    if (Date.now() - started > SNAPSHOT_CAP_MS) throw new Error(`abandoned after ${SNAPSHOT_CAP_MS} ms`);
    return pages;
  };
}

async function main() {
  const rows = Number(process.argv[2] ?? 400_000);
  const rounds = Number(process.argv[3] ?? 3);
  const journal = process.argv[4] ?? "wal";
  if (!(rows > 0) || !(rounds > 0) || !["wal", "delete"].includes(journal))
    throw new Error("usage: node bench/sqlite-snapshot.mjs [rows > 0] [rounds > 0] [wal|delete]");
  const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-snapshot-"));
  const file = path.join(dir, "source.db");
  let child;
  try {
    const db = new Database(file);
    db.pragma(`journal_mode = ${journal}`);
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO t (id, payload) VALUES (?, ?)");
    db.transaction(() => {
      for (let i = 1; i <= rows; i++) insert.run(i, PAYLOAD);
    })();
    db.close();
    const mb = statSync(file).size / 1e6;
    process.stderr.write(`[snapshot] source: ${rows} rows, ${mb.toFixed(1)} MB, journal ${journal}\n`);

    // the floor: each method once with nobody writing
    const quiet = [];
    for (const [name, take] of Object.entries(METHODS))
      quiet.push(await snapshot(name, take, file, path.join(dir, `quiet-${quiet.length}.db`), rows, 0));

    child = spawn(process.execPath, [SELF, "--writer", file], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    await new Promise((resolve, reject) => {
      child.once("message", resolve);
      child.once("exit", (code) => reject(new Error(`writer exited with ${code}`)));
    });
    await new Promise((r) => setTimeout(r, 300));

    const results = [];
    for (let round = 0; round < rounds; round++)
      for (const [name, take] of Object.entries(METHODS))
        results.push(
          await snapshot(name, take, file, path.join(dir, `snap-${results.length}.db`), rows, round),
        );

    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const shown = (r) => (r.error ? `> ${SNAPSHOT_CAP_MS / 1000} s` : `${r.ms} ms`);
    console.log(
      `| snapshot of ${mb.toFixed(1)} MB (${rows} rows, journal ${journal}) | nobody writing | a writer committing every 2 ms: median | rounds | writer's commits during it | consistent |`,
    );
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (const name of Object.keys(METHODS)) {
      const rs = results.filter((r) => r.method === name);
      const done = rs.filter((r) => !r.error);
      const ok = done.every((r) => r.integrity === "ok" && r.prefix);
      const med =
        done.length === rs.length
          ? `${median(done.map((r) => r.ms))} ms`
          : `${rs.length - done.length} of ${rs.length} abandoned`;
      const q = quiet.find((r) => r.method === name);
      console.log(
        `| ${name} | ${shown(q)} | ${med} | ${rs.map(shown).join(", ")} | ${rs.map((r) => r.writes).join(", ")} | ${done.length ? (ok ? "yes" : "NO") : "–"} |`,
      );
    }
  } finally {
    child?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One snapshot of `file` into `dest` by one method: its time, and whether the copy is sound and a prefix. */
async function snapshot(name, take, file, dest, rows, round) {
  const src = new Database(file, { fileMustExist: true });
  src.pragma("busy_timeout = 10000");
  const before = src.prepare("SELECT MAX(id) FROM t").pluck().get();
  const t0 = performance.now();
  let error;
  try {
    await take(src, dest);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const ms = performance.now() - t0;
  const after = src.prepare("SELECT MAX(id) FROM t").pluck().get();
  src.close();
  const r = { method: name, round, ms: Math.round(ms * 10) / 10, writes: after - before };
  if (error) r.error = error;
  else {
    const snap = new Database(dest, { readonly: true });
    const check = snap.pragma("integrity_check", { simple: true });
    const { n, lo, hi } = snap.prepare("SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM t").get();
    snap.close();
    r.integrity = check;
    r.rows = n;
    r.prefix = lo === 1 && hi === n && n >= rows;
  }
  for (const x of ["", "-wal", "-shm", "-journal"]) rmSync(dest + x, { force: true });
  process.stderr.write(`[snapshot] ${JSON.stringify(r)}\n`);
  return r;
}

if (process.argv[2] === "--writer") writer(process.argv[3]);
else await main();
