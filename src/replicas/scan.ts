import { lstatSync, readdirSync, realpathSync, rmSync, type Dirent } from "node:fs";
import path from "node:path";
import { MARKER, TMP_PREFIX } from "./names.js";
import { mtimeMsOf, stampOf } from "./stamp.js";
import { isSqliteSidecar, SIDECARS } from "./sqlite-files.js";

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
 * folder (type f file, l symlink, T a temp file of ours, others as find's %y), in the order the walk met
 * them. Nothing changed on disk, the same bytes from one run to the next: the manifest keeps them, and
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

const rel = (root: string, abs: string): string => path.relative(root, abs).split(path.sep).join("/");

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

/** Walks a root in this process without following symlinks (where GNU find is missing); throws when the root cannot be read. */
export function walkRecords(root: string, o: ScanOptions): Buffer {
  const out: string[] = [];
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
      const r = rel(root, abs);
      if (d.name.startsWith(TMP_PREFIX)) out.push(`T\t0\t0\t${r}\0`);
      else if (d.isSymbolicLink()) out.push(`l\t0\t0\t${r}\0`);
      else if (d.isDirectory()) {
        if (!o.excludeDirs.includes(abs)) walk(abs, false);
      } else if (d.isFile()) {
        if ((top && d.name === MARKER) || isSqliteSidecar(d.name) || o.excludeFiles.includes(r)) continue;
        const st = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
        if (st)
          out.push(
            `${recordOf({ path: r, size: Number(st.size), mtimeMs: 0, stamp: stampOf(st.mtimeNs) })}\0`,
          );
      }
    }
  };
  realpathSync(root); // throws for a missing or unreadable root
  walk(root, true);
  return Buffer.from(out.join(""), "utf8");
}

const TAB = 9;
const SLASH = 47;

/**
 * Brings find's output to what the Node walk prints: our temp files typed T, and the marker, the
 * excluded files and SQLite sidecars left out (never carried, and a live database's -wal changing on
 * every run must not make the walk differ from the manifest's). Found by searching the buffer for
 * their names (native searches), not by parsing every record.
 */
export function classify(records: Buffer, o: ScanOptions): Buffer {
  /** Start of the record holding byte i, and of its path. */
  const where = (i: number): { start: number; path: number } => {
    const start = records.lastIndexOf(0, i) + 1;
    let p = start;
    for (let tabs = 0; tabs < 3; p++) if (records[p] === TAB) tabs++;
    return { start, path: p };
  };
  const each = (needle: string, fn: (i: number) => void): void => {
    const b = Buffer.from(needle, "utf8");
    for (let i = records.indexOf(b); i !== -1; i = records.indexOf(b, i + 1)) fn(i);
  };
  const isFile = (start: number): boolean => records[start] === 102; /* f */
  // a temp file: a base name that starts with the prefix (its type becomes T)
  each(TMP_PREFIX, (i) => {
    const w = where(i);
    const slash = records.indexOf(SLASH, i);
    const startsName = i === w.path || (i > w.path && records[i - 1] === SLASH);
    if (startsName && (slash === -1 || slash > records.indexOf(0, i)) && isFile(w.start))
      records[w.start] = 84; /* T */
  });
  // the marker, excluded files, sidecars: left out, as the Node walk leaves them out
  const drop = new Set<number>();
  for (const rel of [MARKER, ...o.excludeFiles])
    each(`\t${rel}\0`, (i) => {
      const w = where(i + 1);
      if (w.path === i + 1 && isFile(w.start)) drop.add(w.start);
    });
  for (const suffix of SIDECARS)
    each(`${suffix}\0`, (i) => {
      const w = where(i);
      const p = records.toString("utf8", w.path, i + suffix.length);
      if (isSqliteSidecar(p.slice(p.lastIndexOf("/") + 1)) && isFile(w.start)) drop.add(w.start);
    });
  if (drop.size === 0) return records;
  // moved down in place: no second buffer of the walk's size
  let to = 0;
  let from = 0;
  for (const start of [...drop].sort((a, b) => a - b)) {
    to += records.copy(records, to, from, start);
    from = records.indexOf(0, start) + 1;
  }
  to += records.copy(records, to, from);
  return records.subarray(0, to);
}

/** Symlinks pointing outside the root and our temp files, found in a walk's records (a scan for their types, not a parse of every record); temps are removed when asked. */
export function special(root: string, records: Buffer, o: ScanOptions): RawScan {
  const symlinksOutside: string[] = [];
  let strayTemps = 0;
  let realRoot: string | undefined;
  const at = (type: string): number[] => {
    const found: number[] = [];
    if (records.length > 1 && records[0] === type.charCodeAt(0) && records[1] === 9) found.push(0);
    const needle = Buffer.from(`\0${type}\t`, "latin1");
    for (let i = records.indexOf(needle); i !== -1; i = records.indexOf(needle, i + 1)) found.push(i + 1);
    return found;
  };
  const recordAt = (start: number): string => records.toString("utf8", start, records.indexOf(0, start));
  for (const start of at("T")) {
    strayTemps++;
    if (o.removeTemps)
      rmSync(path.join(root, pathOfRecord(recordAt(start))), { force: true, recursive: true });
  }
  for (const start of at("l")) {
    const r = pathOfRecord(recordAt(start));
    realRoot ??= realpathSync(root);
    let target = "";
    try {
      target = realpathSync(path.join(root, r));
    } catch {
      // dangling
    }
    if (target === "" || (target !== realRoot && !target.startsWith(realRoot + path.sep)))
      symlinksOutside.push(r);
  }
  return { records, symlinksOutside, strayTemps };
}

/** The Node walk, with its temps and outside symlinks found. */
export const nodeWalk = (root: string, o: ScanOptions): RawScan => special(root, walkRecords(root, o), o);

export const parsed = (raw: RawScan): ScanResult => ({
  files: filesOf(raw.records),
  symlinksOutside: raw.symlinksOutside,
  strayTemps: raw.strayTemps,
});

/** The Node walk, parsed (the reference the find walk is tested against). */
export function scanTree(root: string, o: ScanOptions): ScanResult {
  return parsed(nodeWalk(root, o));
}

const HOUR = 3_600_000;

/** True when an mtime moved by no more than the window, or by exactly one hour either way (FAT/exFAT, DST). */
export function withinWindow(a: number, b: number, windowMs: number): boolean {
  const d = Math.abs(a - b);
  return d <= windowMs || Math.abs(d - HOUR) <= windowMs;
}
