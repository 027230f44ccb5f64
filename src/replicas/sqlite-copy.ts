import { createHash } from "node:crypto";
import { existsSync, renameSync, rmSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { fsyncDir, fsyncFile } from "../fsync.js";
import { backupSqlite } from "../sqlite-backup.js";
import { tempPathFor } from "./fs-atomic.js";

import { isSqliteFile, SIDECARS } from "./sqlite-files.js";

function open(abs: string): Database.Database {
  const db = new Database(abs, { fileMustExist: true });
  db.pragma("busy_timeout = 10000");
  return db;
}

const cell = (_k: string, v: unknown): unknown =>
  typeof v === "bigint"
    ? v.toString()
    : v instanceof Uint8Array
      ? Buffer.from(v).toString("hex")
      : (v as { type?: string; data?: number[] } | null)?.type === "Buffer"
        ? Buffer.from((v as { data: number[] }).data).toString("hex")
        : v;

/**
 * The logical fingerprint of a database: sha256 over its schema and every row of every table
 * (ordered by rowid), read in one transaction. Stable across VACUUM and page layout, unlike the file's bytes.
 */
export function sqliteFingerprint(abs: string): string {
  const db = open(abs);
  try {
    const h = createHash("sha256");
    db.transaction(() => {
      const objects = db
        .prepare<[], { type: string; name: string; sql: string | null }>(
          "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name",
        )
        .all();
      for (const o of objects) {
        h.update(JSON.stringify([o.type, o.name, o.sql]));
        if (o.type !== "table" || (o.sql ?? "").toUpperCase().startsWith("CREATE VIRTUAL")) continue;
        const quoted = `"${o.name.replace(/"/g, '""')}"`;
        let stmt: Database.Statement;
        try {
          stmt = db.prepare(`SELECT * FROM ${quoted} ORDER BY rowid`);
        } catch {
          stmt = db.prepare(`SELECT * FROM ${quoted}`); // WITHOUT ROWID: ordered by its key
        }
        for (const row of stmt.raw().iterate()) h.update(JSON.stringify(row, cell) + "\n");
      }
    })();
    return h.digest("hex");
  } finally {
    db.close();
  }
}

/**
 * Carries a database: a consistent snapshot through the backup API (finishing under a steady writer:
 * `backupSqlite`) into a temp file beside the destination, `PRAGMA quick_check` on it, fsync; then
 * renamed into place (no destination yet) or restored into the destination through the backup API
 * (so a connection holding it stays valid).
 * Returns the snapshot's fingerprint.
 */
export async function copySqliteAtomic(src: string, dest: string): Promise<string> {
  const tmp = tempPathFor(dest);
  try {
    const source = open(src);
    try {
      await backupSqlite(source, tmp);
    } finally {
      source.close();
    }
    const snap = new Database(tmp, { fileMustExist: true });
    try {
      const check = snap.pragma("quick_check", { simple: true });
      if (check !== "ok") throw new Error(`snapshot of ${src} failed quick_check: ${String(check)}`);
    } finally {
      snap.close();
    }
    fsyncFile(tmp);
    const fingerprint = sqliteFingerprint(tmp);
    if (existsSync(dest) && isSqliteFile(dest)) {
      const from = new Database(tmp, { readonly: true, fileMustExist: true });
      try {
        await backupSqlite(from, dest);
      } finally {
        from.close();
      }
    } else {
      for (const s of SIDECARS) rmSync(dest + s, { force: true });
      renameSync(tmp, dest);
      fsyncDir(path.dirname(dest));
    }
    return fingerprint;
  } finally {
    for (const s of ["", ...SIDECARS]) rmSync(tmp + s, { force: true });
  }
}
