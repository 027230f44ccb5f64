import { copyFileSync, existsSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { LoadedConfig } from "../config/load-config.js";
import { errorMessage } from "../errors.js";
import { stateSnapshotPath } from "../replicas/state-snapshot.js";
import { configuredTargets } from "../replicas/target-status.js";
import { listBackups } from "./backups.js";
import { verifyDatabaseFile } from "./integrity.js";

export interface Snapshot {
  file: string;
  at: number;
}

/** Every `state.db` snapshot under `<state>/backups/**`, newest first (by backup folder time, then mtime). */
export function findSnapshots(stateDir: string, dbName = "state.db"): Snapshot[] {
  const out: Snapshot[] = [];
  const walk = (dir: string, at: number): void => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, d.name);
      if (d.isDirectory()) walk(p, at);
      else if (d.isFile() && d.name === dbName) out.push({ file: p, at: at || statSync(p).mtimeMs });
    }
  };
  for (const b of listBackups(stateDir)) walk(b.dir, b.at);
  return out.sort((a, b) => b.at - a.at);
}

/** This machine's state snapshot on each configured replica target that holds one, by file mtime. */
export function replicaSnapshots(loaded: LoadedConfig): Snapshot[] {
  return configuredTargets(loaded).flatMap((t) => {
    const file = stateSnapshotPath(t.remoteRoot);
    const st = statSync(file, { throwIfNoEntry: false });
    return st?.isFile() ? [{ file, at: st.mtimeMs }] : [];
  });
}

export interface RestoreOutcome {
  restored: boolean;
  message: string;
  from?: string;
  movedAside: string[];
  rejected: { file: string; problem: string }[];
}

const stamp = (now: number): string => new Date(now).toISOString().replace(/[:.]/g, "-");

/** Copies a candidate to `temp` and runs quick_check on the copy: the problem, or undefined when sound. */
function copyAndVerify(file: string, temp: string): string | undefined {
  rmSync(temp, { force: true });
  try {
    copyFileSync(file, temp);
  } catch (e) {
    // a replica target can vanish (unmounted) between listing and copying
    return `cannot copy it: ${errorMessage(e)}`;
  }
  const verdict = verifyDatabaseFile(temp, false);
  return verdict.ok ? undefined : (verdict.problems[0] ?? "failed quick_check");
}

/**
 * Replaces a damaged state database with the newest snapshot that passes quick_check, from backups/
 * or from `extra` (snapshots on replica targets), newest first: each candidate is copied to a temp
 * file beside the database and verified there (the snapshot itself is never touched), the damaged
 * file and its -wal/-shm are moved aside to `state.db.corrupt-<timestamp>`, and the verified copy is
 * renamed into place. No connection to the damaged file may be open.
 */
export function restoreFromSnapshot(
  dbFile: string,
  stateDir: string,
  now: number,
  extra: readonly Snapshot[] = [],
): RestoreOutcome {
  const rejected: RestoreOutcome["rejected"] = [];
  const temp = `${dbFile}.restore-${process.pid}`;
  const candidates = [...findSnapshots(stateDir, path.basename(dbFile)), ...extra].sort(
    (a, b) => b.at - a.at,
  );
  for (const snap of candidates) {
    const problem = copyAndVerify(snap.file, temp);
    if (problem !== undefined) {
      rejected.push({ file: snap.file, problem });
      for (const f of [temp, `${temp}-wal`, `${temp}-shm`]) rmSync(f, { force: true });
      continue;
    }
    // leave the copy self-contained (no -wal beside it) before it takes the database's name
    const db = new Database(temp);
    db.pragma("journal_mode = DELETE");
    db.close();
    const movedAside: string[] = [];
    const aside = `${dbFile}.corrupt-${stamp(now)}`;
    for (const suffix of ["", "-wal", "-shm"]) {
      if (!existsSync(dbFile + suffix)) continue;
      renameSync(dbFile + suffix, aside + suffix);
      movedAside.push(aside + suffix);
    }
    renameSync(temp, dbFile);
    return {
      restored: true,
      from: snap.file,
      movedAside,
      rejected,
      message: `restored ${path.basename(dbFile)} from ${snap.file}; the damaged file is at ${aside}`,
    };
  }
  return {
    restored: false,
    movedAside: [],
    rejected,
    message:
      rejected.length === 0
        ? `no snapshot found under ${path.join(stateDir, "backups")} or on a replica target; the damaged database was left in place`
        : `no snapshot passed quick_check (${rejected.length} rejected); the damaged database was left in place`,
  };
}
