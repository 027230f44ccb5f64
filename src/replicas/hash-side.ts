import path from "node:path";
import { pool, sha256File, sha256FileAsync } from "./fs-atomic.js";
import type { FileEntry } from "./manifest.js";
import type { StatEntry } from "./scan.js";
import { sqliteFingerprint } from "./sqlite-copy.js";
import { isSqliteFile } from "./sqlite-files.js";

/**
 * Content hashes for one side. A file unchanged since the manifest (same size and mtime) keeps its
 * recorded hash; a database always gets its logical fingerprint. With `needed`, other files are hashed
 * only when `needed(path)` says the decision depends on it (a changed file the manifest knows, a path
 * the other side holds too); the rest (new on this side only: always a plain copy) get an empty hash,
 * which the copy fills in as it reads the file. So do files the manifest knows whose size changed while
 * `changedThere(path)` says the other side's did not: a one-sided change, copied whatever its contents
 * (a hash decides only between versions of the same size, or two changes to the same path).
 */
export async function hashSide(
  root: string,
  files: Map<string, StatEntry>,
  prev: Map<string, FileEntry>,
  needed: (p: string) => boolean = () => true,
  changedThere: (p: string) => boolean = () => true,
): Promise<Map<string, FileEntry>> {
  const out = new Map<string, FileEntry>();
  const todo: StatEntry[] = [];
  for (const [p, f] of files) {
    const m = prev.get(p);
    if (SQLITE_EXT.test(p)) todo.push(f);
    else if (m && !m.sqlite && m.size === f.size && m.mtimeMs === f.mtimeMs)
      out.set(p, m.stamp === f.stamp ? m : withStamp(m, f.stamp));
    else if (m ? m.size === f.size || changedThere(p) : needed(p)) todo.push(f);
    else out.set(p, { ...f, sha256: "" });
  }
  const hash = (f: StatEntry, sha256: () => string): void => {
    const abs = path.join(root, ...f.path.split("/"));
    try {
      if (SQLITE_EXT.test(f.path) && isSqliteFile(abs))
        out.set(f.path, { ...f, sha256: sqliteFingerprint(abs), sqlite: true });
      else out.set(f.path, { ...f, sha256: sha256() });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e; // vanished since the walk: absent
    }
  };
  // small files are read and hashed at once; large ones stream, several at a time
  const large: StatEntry[] = [];
  for (const f of todo) {
    if (f.size > SMALL) large.push(f);
    else hash(f, () => sha256File(path.join(root, ...f.path.split("/"))));
  }
  await pool(large, HASH_CONCURRENCY, async (f) => {
    const sha = await sha256FileAsync(path.join(root, ...f.path.split("/"))).catch((e: unknown) => e);
    hash(f, () => {
      if (typeof sha !== "string") throw sha;
      return sha;
    });
  });
  return out;
}

/** An entry with another stamp (or none). */
function withStamp(e: FileEntry, stamp: string | undefined): FileEntry {
  const { stamp: _, ...rest } = e;
  return stamp === undefined ? rest : { ...rest, stamp };
}

const SMALL = 1 << 20;
const SQLITE_EXT = /\.(db|sqlite3?)$/i;
const HASH_CONCURRENCY = 8;
