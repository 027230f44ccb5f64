import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { ConfigError } from "../../errors.js";
import { migrate } from "./migrations.js";

const NETWORK_FILESYSTEMS = new Set([
  "nfs",
  "nfs4",
  "cifs",
  "smb3",
  "smbfs",
  "sshfs",
  "fuse.sshfs",
  "9p",
  "afs",
]);

/** The file system type of the mount holding `dir`, read from /proc/mounts where there is one. */
function filesystemOf(dir: string): string | undefined {
  if (!existsSync("/proc/mounts")) return undefined;
  let best: { mount: string; type: string } | undefined;
  for (const line of readFileSync("/proc/mounts", "utf8").split("\n")) {
    const [, mount, type] = line.split(" ");
    if (mount === undefined || type === undefined) continue;
    const inside = dir === mount || dir.startsWith(mount.endsWith("/") ? mount : mount + "/");
    if (inside && (best === undefined || mount.length > best.mount.length)) best = { mount, type };
  }
  return best?.type;
}

/** Opens (creating if needed) the state database: WAL, busy timeout, migrations; refuses network file systems. */
export function openDatabase(file: string): Database.Database {
  const dir = path.dirname(path.resolve(file));
  mkdirSync(dir, { recursive: true });
  const fs = filesystemOf(dir);
  if (fs !== undefined && NETWORK_FILESYSTEMS.has(fs)) {
    throw new ConfigError(
      `${dir} is on a network file system (${fs}); SQLite's locking is unsafe there. Put state_dir on a local disk and use replicas to share it.`,
    );
  }
  const db = new Database(file);
  // the timeout first: several processes may open (and migrate) a new state file at once
  db.pragma("busy_timeout = 10000");
  // switching a new file to WAL, or a WAL recovery in another process, can answer SQLITE_BUSY without
  // consulting the busy handler: retry for a while rather than fail the command
  for (let attempt = 0; ; attempt++) {
    try {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      db.pragma("foreign_keys = ON");
      migrate(db);
      return db;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (attempt >= 100 || typeof code !== "string" || !code.startsWith("SQLITE_BUSY")) {
        db.close();
        throw e;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50 + Math.random() * 50);
    }
  }
}
