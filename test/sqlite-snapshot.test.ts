import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { copySqliteAtomic } from "../src/replicas/sqlite-copy.js";
import { ROOT } from "./helpers/workspace.js";

const WRITER = path.join(ROOT, "test/fixtures/sqlite-writer.mjs");
/** About 80 MB of rows: a copy in steps of 100 pages needs a few hundred steps, each a chance for a write. */
const ROWS = 400_000;
/** Generous: a snapshot takes well under a second here; the unbounded one never finished. */
const BOUND_MS = 20_000;

let dir: string;
let writer: ChildProcess | undefined;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "syncwarden-snapshot-"));
});
afterEach(() => {
  writer?.kill("SIGKILL");
  writer = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** Table `t` with ids 1..ROWS in the database `file` (WAL, as the ledger). */
function fill(file: string): void {
  const db = new Database(file);
  try {
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO t (id, payload) VALUES (?, ?)");
    const payload = "p".repeat(180);
    db.transaction(() => {
      for (let i = 1; i <= ROWS; i++) insert.run(i, payload);
    })();
  } finally {
    db.close();
  }
}

/** A child process appending rows to `t` of `file` without pause; resolves once it has committed. */
async function startWriter(file: string): Promise<() => number> {
  const child = fork(WRITER, [file], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  writer = child;
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`the writer exited with ${code}`)));
  });
  const db = new Database(file, { readonly: true });
  // the rows written so far, read from the source itself
  return () => {
    const n = db.prepare<[], number>("SELECT MAX(id) FROM t").pluck().get()!;
    return n;
  };
}

/** Resolves with the promise's value, or rejects once `ms` passed. */
async function bounded<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The snapshot passes integrity_check and holds ids 1..n, n between what was there before and after. */
function expectConsistentPrefix(snapshot: string, before: number, after: number): void {
  const db = new Database(snapshot, { readonly: true });
  try {
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    const { n, lo, hi } = db
      .prepare<[], { n: number; lo: number; hi: number }>(
        "SELECT COUNT(*) AS n, MIN(id) AS lo, MAX(id) AS hi FROM t",
      )
      .get()!;
    expect(lo).toBe(1);
    expect(hi).toBe(n);
    expect(n).toBeGreaterThanOrEqual(before);
    expect(n).toBeLessThanOrEqual(after);
  } finally {
    db.close();
  }
}

describe("SQLite snapshots under a steady writer", () => {
  it("14.4 a replica's live database copy finishes while a writer child keeps committing, and is a consistent prefix", async () => {
    const src = path.join(dir, "live.db");
    fill(src);
    const written = await startWriter(src);
    const before = written();
    const dest = path.join(dir, "copy.db");
    await bounded(copySqliteAtomic(src, dest), BOUND_MS, "the snapshot");
    const after = written();
    expect(after, "the writer kept writing during the snapshot").toBeGreaterThan(before);
    expect(writer!.exitCode, "the writer is still running").toBeNull();
    expectConsistentPrefix(dest, before, after);
  });

  it("14.4 the ledger's backup finishes while a writer child keeps committing, and is a consistent prefix", async () => {
    const file = path.join(dir, "state.db");
    await openSqliteLedger(file).close();
    fill(file);
    const ledger = openSqliteLedger(file);
    try {
      const written = await startWriter(file);
      const before = written();
      const dest = path.join(dir, "backup.db");
      await bounded(ledger.maintenance.backup(dest), BOUND_MS, "the backup");
      const after = written();
      expect(after, "the writer kept writing during the backup").toBeGreaterThan(before);
      expect(writer!.exitCode, "the writer is still running").toBeNull();
      expectConsistentPrefix(dest, before, after);
    } finally {
      await ledger.close();
    }
  });
});
