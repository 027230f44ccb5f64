import { mtimeMsOf } from "./stamp.js";

// A walk's records (see RawScan): their types and the few helpers that read and write them.

export interface StatEntry {
  path: string;
  size: number;
  mtimeMs: number;
  /** The mtime exactly as find's `%T@` prints it, when known (a scan, or a stat of a file just written). */
  stamp?: string;
}

export interface ScanResult {
  files: Map<string, StatEntry>;
  /** Symlinks are never followed; those pointing outside the root are reported. */
  symlinksOutside: string[];
  /** Temp files left by a killed run, removed (unless dry run). */
  strayTemps: number;
}

/**
 * A walk's raw output: one record `<type>\t<size>\t<stamp>\t<relative path>\0` per entry that is not a
 * folder (type f file, l symlink, T a temp file of ours), in the order the walk met them (see
 * walk-tree.ts). Nothing changed on disk, the same bytes from one run to the next: the manifest keeps them, and
 * comparing the two buffers is the whole "did anything change?" test.
 */
export interface RawScan {
  records: Buffer;
  symlinksOutside: string[];
  strayTemps: number;
}

export interface ScanOptions {
  /** Absolute folders never entered (the manifests and backups when the root is the state folder). */
  excludeDirs: readonly string[];
  /** Relative paths never carried (the ledger's own database). */
  excludeFiles: readonly string[];
  removeTemps: boolean;
}

/** A file's record. Without a stamp, type `?` and the mtime in milliseconds: no walk prints that, so the path is looked at again next run. */
export function recordOf(e: StatEntry): string {
  return e.stamp === undefined
    ? `?\t${e.size}\t${e.mtimeMs}\t${e.path}`
    : `f\t${e.size}\t${e.stamp}\t${e.path}`;
}

/** The relative path of a record (after its third tab: the path may hold tabs itself). */
export function pathOfRecord(rec: string): string {
  const t2 = rec.indexOf("\t", 2);
  return rec.slice(rec.indexOf("\t", t2 + 1) + 1);
}

/** A file record (`f`, or `?` from a manifest) as a stat entry. */
export function parseRecord(rec: string): StatEntry {
  const t2 = rec.indexOf("\t", 2);
  const t3 = rec.indexOf("\t", t2 + 1);
  const stamp = rec.slice(t2 + 1, t3);
  const out: StatEntry = { path: rec.slice(t3 + 1), size: Number(rec.slice(2, t2)), mtimeMs: 0 };
  if (rec.charCodeAt(0) === 63 /* ? */) out.mtimeMs = Number(stamp);
  else {
    out.mtimeMs = mtimeMsOf(stamp);
    out.stamp = stamp;
  }
  return out;
}

/** The records of a walk, split (the trailing NUL gives no empty record). */
export function splitRecords(records: Buffer): string[] {
  if (records.length === 0) return [];
  return records.toString("utf8", 0, records.length - 1).split("\0");
}

/** The regular files of a walk's records. */
export function filesOf(records: Buffer): Map<string, StatEntry> {
  const files = new Map<string, StatEntry>();
  for (const rec of splitRecords(records)) {
    if (rec.charCodeAt(0) !== 102 /* f */) continue;
    const e = parseRecord(rec);
    files.set(e.path, e);
  }
  return files;
}

const HOUR = 3_600_000;

/** True when an mtime moved by no more than the window, or by exactly one hour either way (FAT/exFAT, DST). */
export function withinWindow(a: number, b: number, windowMs: number): boolean {
  const d = Math.abs(a - b);
  return d <= windowMs || Math.abs(d - HOUR) <= windowMs;
}
