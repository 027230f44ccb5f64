import { closeSync, openSync, readSync } from "node:fs";
import path from "node:path";

// Telling SQLite databases and their companions apart by name and header (no SQLite library needed).

export const EXTENSIONS = [".db", ".sqlite", ".sqlite3"];
const HEADER = Buffer.from("SQLite format 3\0", "latin1");

/** A `*.db`, `*.sqlite` or `*.sqlite3` file that starts with the SQLite header. */
export function isSqliteFile(abs: string): boolean {
  if (!EXTENSIONS.includes(path.extname(abs).toLowerCase())) return false;
  const fd = openSync(abs, "r");
  try {
    const buf = Buffer.alloc(16);
    return readSync(fd, buf, 0, 16, 0) === 16 && buf.equals(HEADER);
  } finally {
    closeSync(fd);
  }
}

/** The suffixes of a database's companions. */
export const SIDECARS = ["-wal", "-shm", "-journal"];

/** `x.db-wal`, `x.sqlite-shm`, `x.db-journal` (the extension in any case): never carried (the snapshot holds their committed content). */
export function isSqliteSidecar(name: string): boolean {
  if (!SIDECARS.some((s) => name.endsWith(s))) return false; // most names: no regex run
  const m = /^(.*)-(wal|shm|journal)$/.exec(name);
  return m !== null && EXTENSIONS.includes(path.extname(m[1]!).toLowerCase());
}
