import { lstatSync, readdirSync, realpathSync, rmSync, type Dirent } from "node:fs";
import path from "node:path";
import { sha256File, TMP_PREFIX } from "./fs-atomic.js";
import type { FileEntry } from "./manifest.js";
import { isSqliteFile, isSqliteSidecar, sqliteFingerprint } from "./sqlite-copy.js";

/** The file on each target that says "this is the right, mounted folder". */
export const MARKER = ".syncwarden-replica";

export interface StatEntry {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface ScanResult {
  files: Map<string, StatEntry>;
  /** Symlinks are never followed; those pointing outside the root are reported. */
  symlinksOutside: string[];
  /** Temp files left by a killed run, removed (unless dry run). */
  strayTemps: number;
}

export interface ScanOptions {
  /** Absolute folders never entered (the manifests and backups when the root is the state folder). */
  excludeDirs: readonly string[];
  /** Relative paths never carried (the ledger's own database). */
  excludeFiles: readonly string[];
  removeTemps: boolean;
}

const rel = (root: string, abs: string): string => path.relative(root, abs).split(path.sep).join("/");

/** Walks a root without following symlinks; throws when the root cannot be read (an unreachable target). */
export function scanTree(root: string, o: ScanOptions): ScanResult {
  const files = new Map<string, StatEntry>();
  const symlinksOutside: string[] = [];
  let strayTemps = 0;
  const realRoot = realpathSync(root);
  const walk = (dir: string, top: boolean): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (top) throw e;
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    for (const d of entries) {
      const abs = path.join(dir, d.name);
      if (d.name.startsWith(TMP_PREFIX)) {
        strayTemps++;
        if (o.removeTemps) rmSync(abs, { force: true, recursive: true });
        continue;
      }
      if (d.isSymbolicLink()) {
        let target: string;
        try {
          target = realpathSync(abs);
        } catch {
          target = "";
        }
        if (target === "" || (target !== realRoot && !target.startsWith(realRoot + path.sep)))
          symlinksOutside.push(rel(root, abs));
        continue;
      }
      if (d.isDirectory()) {
        if (!o.excludeDirs.includes(abs)) walk(abs, false);
        continue;
      }
      if (!d.isFile()) continue;
      const r = rel(root, abs);
      if (top && d.name === MARKER) continue;
      if (isSqliteSidecar(d.name) || o.excludeFiles.includes(r)) continue;
      try {
        const st = lstatSync(abs);
        files.set(r, { path: r, size: st.size, mtimeMs: st.mtimeMs });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    }
  };
  walk(root, true);
  return { files, symlinksOutside, strayTemps };
}

const HOUR = 3_600_000;

/** True when an mtime moved by no more than the window, or by exactly one hour either way (FAT/exFAT, DST). */
export function withinWindow(a: number, b: number, windowMs: number): boolean {
  const d = Math.abs(a - b);
  return d <= windowMs || Math.abs(d - HOUR) <= windowMs;
}

/**
 * Files whose size is unchanged but whose mtime moved beyond the window (not a ±1 h shift):
 * the count and the files known on both scans. Nearly all of them at once means a clock shift.
 */
export function mtimeOnlyShift(
  files: Map<string, StatEntry>,
  prev: Map<string, FileEntry>,
  windowMs: number,
): { shifted: number; known: number } {
  let shifted = 0;
  let known = 0;
  for (const [p, f] of files) {
    const m = prev.get(p);
    if (!m || m.sqlite) continue;
    known++;
    if (m.size === f.size && m.mtimeMs !== f.mtimeMs && !withinWindow(m.mtimeMs, f.mtimeMs, windowMs))
      shifted++;
  }
  return { shifted, known };
}

/** Hashes what needs it: files whose size or mtime differ from the manifest; databases always (logical fingerprint). */
export function hashSide(
  root: string,
  files: Map<string, StatEntry>,
  prev: Map<string, FileEntry>,
): Map<string, FileEntry> {
  const out = new Map<string, FileEntry>();
  for (const [p, f] of files) {
    const abs = path.join(root, ...p.split("/"));
    const m = prev.get(p);
    try {
      if (isSqliteFile(abs)) {
        out.set(p, { ...f, sha256: sqliteFingerprint(abs), sqlite: true });
      } else if (m && !m.sqlite && m.size === f.size && m.mtimeMs === f.mtimeMs) {
        out.set(p, { ...f, sha256: m.sha256 });
      } else {
        out.set(p, { ...f, sha256: sha256File(abs) });
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e; // vanished since the walk: absent
    }
  }
  return out;
}
