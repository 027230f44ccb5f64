import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { writeAtomic } from "./fs-atomic.js";

/** What one side held for a path after the last sync. */
export interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
  /** Content sha256, or for an SQLite database its logical fingerprint. */
  sha256: string;
  sqlite?: true;
}

export type Side = "local" | "remote";

/** The last synced state of one (machine, replica, target): each side's entries, so mtimes are only compared within a side. */
export interface Manifest {
  version: 1;
  replica: string;
  target: string;
  host: string;
  updatedAt: string;
  local: FileEntry[];
  remote: FileEntry[];
}

export function manifestPath(stateDir: string, replica: string, target: string): string {
  return path.join(stateDir, "replicas", `${replica}-${target}-${hostname()}.json`);
}

export function readManifest(file: string): Manifest | undefined {
  if (!existsSync(file)) return undefined;
  const m = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown };
  if (m.version !== 1) throw new Error(`${file}: unknown manifest version ${String(m.version)}`);
  return m as Manifest;
}

/** Written atomically (temp file in the same folder, fsync, rename), and only after a run applied its plan. */
export function writeManifest(file: string, m: Omit<Manifest, "version" | "host" | "updatedAt">): void {
  const full: Manifest = { version: 1, host: hostname(), updatedAt: new Date().toISOString(), ...m };
  full.local.sort((a, b) => (a.path < b.path ? -1 : 1));
  full.remote.sort((a, b) => (a.path < b.path ? -1 : 1));
  writeAtomic(file, JSON.stringify(full));
}

export function toMap(entries: readonly FileEntry[] | undefined): Map<string, FileEntry> {
  return new Map((entries ?? []).map((e) => [e.path, e]));
}
