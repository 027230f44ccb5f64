import { copyFileSync, existsSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { errorMessage } from "../../errors.js";
import {
  VACUUM_FREE_RATIO,
  type MaintenanceStore,
  type RestoreOutcome,
  type StorageFacts,
} from "../maintenance-store.js";
import { fsyncDir, fsyncFile } from "../../fsync.js";
import { backupSqlite } from "../../sqlite-backup.js";

const SIDECARS = ["-wal", "-shm", "-journal"];
const sizeOf = (file: string): number => (existsSync(file) ? statSync(file).size : 0);
const stamp = (now: number): string => new Date(now).toISOString().replace(/[:.]/g, "-");

/** Opens a database file read-only (no migrations, no writes). */
function openReadOnly(file: string): Database.Database {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma("busy_timeout = 5000");
  return db;
}

/** The problems `PRAGMA quick_check` (or integrity_check) reports of a file; any failure to open or read it is one. */
export function verifyDatabaseFile(file: string, thorough: boolean): string[] {
  let db: Database.Database | undefined;
  try {
    db = openReadOnly(file);
    const rows = db.pragma(`${thorough ? "integrity_check" : "quick_check"}(20)`) as Record<
      string,
      unknown
    >[];
    const messages = rows.map((r) => String(Object.values(r)[0]));
    return messages.length === 1 && messages[0] === "ok" ? [] : messages;
  } catch (e) {
    return [errorMessage(e)];
  } finally {
    try {
      db?.close();
    } catch {
      // a failed close of a damaged file changes nothing
    }
  }
}

function storageFacts(db: Database.Database, file: string): StorageFacts {
  const pageCount = db.pragma("page_count", { simple: true }) as number;
  const freePages = db.pragma("freelist_count", { simple: true }) as number;
  return {
    dbBytes: sizeOf(file),
    walBytes: sizeOf(`${file}-wal`),
    pageCount,
    freePages,
    freeRatio: pageCount === 0 ? 0 : freePages / pageCount,
  };
}

const formatMb = (n: number): string => `${(n / 1024 ** 2).toFixed(1)} MB`;

/**
 * The SQLite ledger's maintenance: works on the open connection when the ledger is open, else on
 * short-lived connections of its own (so doctor can look at a file that fails to open for writing).
 */
export class SqliteMaintenanceStore implements MaintenanceStore {
  constructor(
    readonly location: string,
    private readonly open?: Database.Database,
  ) {}

  exists(): boolean {
    return existsSync(this.location);
  }

  private with<T>(readonly: boolean, fn: (db: Database.Database) => T): T {
    if (this.open) return fn(this.open);
    const db = readonly ? openReadOnly(this.location) : new Database(this.location, { fileMustExist: true });
    try {
      if (!readonly) db.pragma("busy_timeout = 10000");
      return fn(db);
    } finally {
      db.close();
    }
  }

  integrity(thorough: boolean): Promise<string[]> {
    return Promise.resolve(verifyDatabaseFile(this.location, thorough));
  }

  size(): Promise<StorageFacts> {
    return Promise.resolve(this.with(true, (db) => storageFacts(db, this.location)));
  }

  /** The backup API into a temp file beside `dest` (bounded under other processes' writes: `backupSqlite`), quick_check on it, fsync, rename. */
  async backup(dest: string): Promise<void> {
    const tmp = `${dest}.tmp-${process.pid}`;
    try {
      const source = this.open ?? openReadOnly(this.location);
      try {
        await backupSqlite(source, tmp);
      } finally {
        if (source !== this.open) source.close();
      }
      const problems = verifyDatabaseFile(tmp, false);
      if (problems.length > 0)
        throw new Error(`backup of ${this.location} failed quick_check: ${problems[0]!}`);
      fsyncFile(tmp);
      for (const s of SIDECARS) rmSync(dest + s, { force: true });
      renameSync(tmp, dest);
      fsyncDir(path.dirname(dest));
    } finally {
      for (const s of ["", ...SIDECARS]) rmSync(tmp + s, { force: true });
    }
  }

  compact(): Promise<{
    message: string;
    details: StorageFacts & { vacuumed: boolean; before: StorageFacts };
  }> {
    return Promise.resolve(
      this.with(false, (db) => {
        const before = storageFacts(db, this.location);
        const vacuumed = before.freeRatio > VACUUM_FREE_RATIO;
        if (vacuumed) db.exec("VACUUM");
        db.pragma("optimize");
        db.pragma("wal_checkpoint(TRUNCATE)");
        const after = storageFacts(db, this.location);
        const message = `${vacuumed ? `VACUUM (free pages ${before.freePages} → ${after.freePages}), ` : ""}PRAGMA optimize, wal_checkpoint(TRUNCATE) (WAL ${formatMb(before.walBytes)} → ${formatMb(after.walBytes)})`;
        return { message, details: { ...after, vacuumed, before } };
      }),
    );
  }

  /**
   * Each candidate, newest first, is copied to a temp file beside the database and checked there (the
   * candidate itself is never touched); the first sound one replaces the database, whose file and
   * -wal/-shm are moved aside to `state.db.corrupt-<time>`. No connection to the file may be open.
   */
  restore(candidates: readonly { file: string; at: number }[]): Promise<RestoreOutcome> {
    const file = this.location;
    const rejected: RestoreOutcome["rejected"] = [];
    const temp = `${file}.restore-${process.pid}`;
    for (const snap of [...candidates].sort((a, b) => b.at - a.at)) {
      rmSync(temp, { force: true });
      let problem: string | undefined;
      try {
        copyFileSync(snap.file, temp);
        problem = verifyDatabaseFile(temp, false)[0];
      } catch (e) {
        // a replica target can vanish (unmounted) between listing and copying
        problem = `cannot copy it: ${errorMessage(e)}`;
      }
      if (problem !== undefined) {
        rejected.push({ file: snap.file, problem });
        for (const s of ["", ...SIDECARS]) rmSync(temp + s, { force: true });
        continue;
      }
      // leave the copy self-contained (no -wal beside it) before it takes the database's name
      const db = new Database(temp);
      db.pragma("journal_mode = DELETE");
      db.close();
      const movedAside: string[] = [];
      const aside = `${file}.corrupt-${stamp(Date.now())}`;
      for (const suffix of ["", "-wal", "-shm"]) {
        if (!existsSync(file + suffix)) continue;
        renameSync(file + suffix, aside + suffix);
        movedAside.push(aside + suffix);
      }
      renameSync(temp, file);
      fsyncDir(path.dirname(file));
      return Promise.resolve({
        restored: true,
        from: snap.file,
        movedAside,
        rejected,
        message: `restored ${path.basename(file)} from ${snap.file}; the damaged file is at ${aside}`,
      });
    }
    return Promise.resolve({
      restored: false,
      movedAside: [],
      rejected,
      message:
        rejected.length === 0
          ? "no snapshot found in backups/ or on a replica target; the damaged database was left in place"
          : `no snapshot passed quick_check (${rejected.length} rejected); the damaged database was left in place`,
    });
  }
}
