import { spawn } from "node:child_process";
import { lstatSync, readdirSync, realpathSync, rmSync, type Dirent } from "node:fs";
import path from "node:path";
import { pool, sha256File, sha256FileAsync, TMP_PREFIX } from "./fs-atomic.js";
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

/**
 * Content hashes for one side. A file unchanged since the manifest (same size and mtime) keeps its
 * recorded hash; a database always gets its logical fingerprint. With `needed`, other files are hashed
 * only when `needed(path)` says the decision depends on it (a changed file the manifest knows, a path
 * the other side holds too); the rest (new on this side only: always a plain copy) get an empty hash,
 * which the copy fills in as it reads the file.
 */
export async function hashSide(
  root: string,
  files: Map<string, StatEntry>,
  prev: Map<string, FileEntry>,
  needed: (p: string) => boolean = () => true,
): Promise<Map<string, FileEntry>> {
  const out = new Map<string, FileEntry>();
  const todo: StatEntry[] = [];
  for (const [p, f] of files) {
    const m = prev.get(p);
    if (SQLITE_EXT.test(p)) todo.push(f);
    else if (m && !m.sqlite && m.size === f.size && m.mtimeMs === f.mtimeMs) out.set(p, m);
    else if (m || needed(p)) todo.push(f);
    else out.set(p, { path: p, size: f.size, mtimeMs: f.mtimeMs, sha256: "" });
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

const SMALL = 1 << 20;
const SQLITE_EXT = /\.(db|sqlite3?)$/i;
const HASH_CONCURRENCY = 8;

// ---- the fast walk: GNU find does the stat calls, the two sides at once ---------------------

/** `find`'s own error for a folder that vanished during the walk (ignored, like the Node walk). */
const VANISHED = /No such file or directory/;

/** Escapes find's -path pattern characters. */
const literal = (p: string): string => p.replace(/[\\*?[\]]/g, "\\$&");

let findWorks: boolean | undefined;

/**
 * Like scanTree, with GNU find doing the walk and the stat calls in another process (several times
 * faster than lstat from JavaScript on large trees, and off this thread). Falls back to scanTree where
 * find lacks -printf (BSD, busybox) or is missing. mtimeMs is computed from find's seconds and
 * nanoseconds exactly as Node's fs.Stats does, so the two walks agree to the bit.
 */
export async function scanTreeFast(root: string, o: ScanOptions): Promise<ScanResult> {
  if (findWorks === false) return scanTree(root, o);
  const realRoot = realpathSync(root); // throws for a missing or unreadable root, as scanTree does
  const prune = o.excludeDirs.flatMap((d, i) => [...(i > 0 ? ["-o"] : []), "-path", literal(d)]);
  const args = [
    "-H", // the root itself may be a symlink (a mount, a cloud folder); links below it are not followed
    root,
    "-mindepth",
    "1",
    ...(prune.length > 0 ? ["(", ...prune, ")", "-prune", "-o"] : []),
    "-name",
    `${TMP_PREFIX}*`,
    "-printf",
    "T\\t0\\t0\\t%P\\0",
    "-prune",
    "-o",
    "-printf",
    "%y\\t%s\\t%T@\\t%P\\0",
  ];
  let out: { stdout: Buffer; stderr: string; code: number | null };
  try {
    out = await capture("find", args);
  } catch {
    findWorks = false;
    return scanTree(root, o);
  }
  const errors = out.stderr.split("\n").filter((l) => l.trim() !== "");
  if (out.code !== 0 && errors.some((l) => /-printf|unknown predicate|illegal option/i.test(l))) {
    findWorks = false;
    return scanTree(root, o);
  }
  const real = errors.filter((l) => !VANISHED.test(l));
  if (out.code !== 0 && real.length > 0)
    throw new Error(`cannot walk ${root}: ${real.slice(0, 3).join("; ")}`);
  findWorks = true;
  const files = new Map<string, StatEntry>();
  const symlinksOutside: string[] = [];
  let strayTemps = 0;
  for (const rec of out.stdout.toString("utf8").split("\0")) {
    // "<type>\t<size>\t<seconds>.<fraction>\t<relative path>"; the path may hold tabs itself
    const t1 = rec.indexOf("\t");
    const t2 = rec.indexOf("\t", t1 + 1);
    const t3 = rec.indexOf("\t", t2 + 1);
    if (t3 === -1) continue;
    const type = rec.slice(0, t1);
    const r = rec.slice(t3 + 1);
    if (type === "f") {
      const name = r.slice(r.lastIndexOf("/") + 1);
      if (r === MARKER || isSqliteSidecar(name) || o.excludeFiles.includes(r)) continue;
      const dot = rec.indexOf(".", t2);
      const frac = dot !== -1 && dot < t3 ? rec.slice(dot + 1, Math.min(dot + 10, t3)).padEnd(9, "0") : "0";
      const sec = Number(rec.slice(t2 + 1, dot !== -1 && dot < t3 ? dot : t3));
      files.set(r, {
        path: r,
        size: Number(rec.slice(t1 + 1, t2)),
        mtimeMs: sec * 1000 + Number(frac) / 1e6,
      });
    } else if (type === "T") {
      strayTemps++;
      if (o.removeTemps) rmSync(path.join(root, r), { force: true, recursive: true });
    } else if (type === "l") {
      let target = "";
      try {
        target = realpathSync(path.join(root, r));
      } catch {
        // dangling
      }
      if (target === "" || (target !== realRoot && !target.startsWith(realRoot + path.sep)))
        symlinksOutside.push(r);
    }
  }
  return { files, symlinksOutside, strayTemps };
}

function capture(
  cmd: string,
  args: string[],
): Promise<{ stdout: Buffer; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => (err += b.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ stdout: Buffer.concat(out), stderr: err, code }));
  });
}
