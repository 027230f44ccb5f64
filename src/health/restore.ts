import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { LoadedConfig } from "../config/load-config.js";
import { stateSnapshotPath } from "../replicas/state-snapshot.js";
import { configuredTargets } from "../replicas/targets.js";
import { listBackups } from "./backups.js";

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

/** Candidates to restore the ledger from: backups/ and this machine's snapshot on each replica target. */
export function restoreCandidates(loaded: LoadedConfig, dbName: string): Snapshot[] {
  return [...findSnapshots(loaded.stateDir, dbName), ...replicaSnapshots(loaded)];
}

/** This machine's state snapshot on each configured replica target that holds one, by file mtime. */
export function replicaSnapshots(loaded: LoadedConfig): Snapshot[] {
  return configuredTargets(loaded).flatMap((t) => {
    const file = stateSnapshotPath(t.remoteRoot);
    const st = statSync(file, { throwIfNoEntry: false });
    return st?.isFile() ? [{ file, at: st.mtimeMs }] : [];
  });
}
