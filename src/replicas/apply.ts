import { existsSync, promises as fsp, statSync } from "node:fs";
import path from "node:path";
import { copyFileAtomic, ensureDir, fsyncDirAsync, pool } from "./fs-atomic.js";
import type { FileEntry, Side } from "./manifest.js";
import type { Action, ConflictStrategy } from "./reconcile.js";
import { copySqliteAtomic } from "./sqlite-copy.js";
import { SIDECARS } from "./sqlite-files.js";

export interface ApplyContext {
  roots: Record<Side, string>;
  /** `<state folder>/backups/<timestamp>`: losing and deleted versions go here first. */
  backupDir: string;
  host: string;
  stamp: string;
  /** Once aborted, no new action starts; those in flight finish and are recorded. */
  signal?: AbortSignal;
  /** Told the number of actions as they start (the checkpoint clock starts then). */
  onStart?: (actions: number) => void;
}

export interface ConflictReport {
  path: string;
  strategy: ConflictStrategy;
  winner: Side | "manual";
  /** The side whose version lost (with manual: the older one, renamed to keptAs on that side and carried to the other). */
  loser: Side;
  keptAs?: string;
  /** Where the losing version was backed up. */
  backup: string;
}

export type Entries = Map<string, { local?: FileEntry; remote?: FileEntry }>;

export interface ApplyResult {
  copied: number;
  deleted: number;
  conflicts: ConflictReport[];
  errors: { path: string; message: string }[];
  /** What each side holds after each successful action (the next manifest's entries for those paths). */
  entries: Entries;
  /** Paths whose action failed: the manifest keeps their previous entries. */
  failed: Set<string>;
  /** Paths whose action has finished (applied or failed); the others keep their previous entries. */
  done: Set<string>;
}

const abs = (root: string, rel: string): string => path.join(root, ...rel.split("/"));
const other = (s: Side): Side => (s === "local" ? "remote" : "local");

/** Copies one version from a side to the other (atomically); returns both sides' new entries. */
async function carry(
  c: Ctx,
  from: Side,
  relFrom: string,
  relTo: string,
  entry: FileEntry,
): Promise<{ src: FileEntry; dest: FileEntry }> {
  const src = abs(c.roots[from], relFrom);
  const dest = abs(c.roots[other(from)], relTo);
  if (entry.sqlite) {
    const fp = await copySqliteAtomic(src, dest);
    const st = await fsp.stat(dest);
    return {
      src: { ...entry, path: relFrom },
      dest: { path: relTo, size: st.size, mtimeMs: st.mtimeMs, sha256: fp, sqlite: true },
    };
  }
  const { destMtimeMs, destStamp, ...got } = await copyFileAtomic(src, dest, { dirs: c.dirs });
  c.dirty.add(path.dirname(dest));
  // the source's stamp from the walk still holds when the copy saw the stat the walk saw
  const same = got.size === entry.size && got.mtimeMs === entry.mtimeMs && entry.stamp !== undefined;
  return {
    src: { path: relFrom, ...got, ...(same ? { stamp: entry.stamp } : {}) },
    dest: { path: relTo, size: got.size, mtimeMs: destMtimeMs, stamp: destStamp, sha256: got.sha256 },
  };
}

async function backup(c: Ctx, side: Side, rel: string, entry: FileEntry): Promise<string> {
  const dest = abs(c.backupDir, rel);
  ensureDir(path.dirname(dest), c.dirs);
  if (entry.sqlite) await copySqliteAtomic(abs(c.roots[side], rel), dest);
  else await copyFileAtomic(abs(c.roots[side], rel), dest, { dirs: c.dirs });
  c.dirty.add(path.dirname(dest));
  return dest;
}

/** Removes folders left empty by a delete or rename, up to the root. */
async function pruneEmpty(root: string, rel: string): Promise<void> {
  let dir = path.dirname(abs(root, rel));
  while (dir.startsWith(root + path.sep)) {
    try {
      await fsp.rmdir(dir);
    } catch {
      return;
    }
    dir = path.dirname(dir);
  }
}

/** The context of one apply: folders whose entries changed are fsynced once per checkpoint. */
interface Ctx extends ApplyContext {
  dirty: Set<string>;
  /** Folders known to exist. */
  dirs: Set<string>;
}

const statOf = (file: string) => statSync(file, { throwIfNoEntry: false });

async function applyOne(c: Ctx, a: Exclude<Action, { kind: "skip" }>, r: ApplyResult): Promise<void> {
  if (a.kind === "copy") {
    const from = other(a.to);
    const there = statOf(abs(c.roots[a.to], a.path));
    const moved = a.over
      ? !a.over.sqlite &&
        there !== undefined &&
        (there.size !== a.over.size || there.mtimeMs !== a.over.mtimeMs)
      : there !== undefined;
    if (moved || (a.over && !there))
      throw new Error(
        `changed on the ${a.to} side since the scan; not overwritten (the next run reconsiders it)`,
      );
    if (there) c.dirs.add(path.dirname(abs(c.roots[a.to], a.path))); // its folder exists: no mkdir
    const { src, dest } = await carry(c, from, a.path, a.path, a.entry);
    r.entries.set(a.path, from === "local" ? { local: src, remote: dest } : { local: dest, remote: src });
    r.copied++;
    return;
  }
  if (a.kind === "delete") {
    const file = abs(c.roots[a.on], a.path);
    const st = statOf(file);
    if (st && (st.size !== a.entry.size || st.mtimeMs !== a.entry.mtimeMs) && !a.entry.sqlite)
      throw new Error("changed since the scan; not deleted (the next run reconsiders it)");
    if (st) {
      await backup(c, a.on, a.path, a.entry);
      await fsp.rm(file, { force: true });
      if (a.entry.sqlite) for (const s of SIDECARS) await fsp.rm(file + s, { force: true });
      c.dirty.add(path.dirname(file));
      await pruneEmpty(c.roots[a.on], a.path);
    }
    r.entries.set(a.path, {});
    r.deleted++;
    return;
  }
  // conflict: back up the losing version first
  const loserEntry = a.loser === "local" ? a.local : a.remote;
  const winnerSide = other(a.loser);
  const winnerEntry = winnerSide === "local" ? a.local : a.remote;
  const saved = await backup(c, a.loser, a.path, loserEntry);
  const report: ConflictReport = {
    path: a.path,
    strategy: a.strategy,
    winner: a.winner,
    loser: a.loser,
    backup: saved,
  };
  if (a.winner === "manual") {
    // a database keeps its extension, so the kept copy is still carried as a database
    const ext = loserEntry.sqlite ? path.posix.extname(a.path) : "";
    const keptAs = `${a.path.slice(0, a.path.length - ext.length)}.conflict-${c.host}-${c.stamp}${ext}`;
    const loserFile = abs(c.roots[a.loser], a.path);
    if (loserEntry.sqlite) {
      // a live database is never renamed away from its -wal: a snapshot takes the new name instead
      await copySqliteAtomic(loserFile, abs(c.roots[a.loser], keptAs));
    } else {
      await fsp.rename(loserFile, abs(c.roots[a.loser], keptAs));
      c.dirty.add(path.dirname(loserFile));
    }
    const kept = await carry(c, a.loser, keptAs, keptAs, { ...loserEntry, path: keptAs });
    r.entries.set(
      keptAs,
      a.loser === "local" ? { local: kept.src, remote: kept.dest } : { local: kept.dest, remote: kept.src },
    );
    report.keptAs = keptAs;
    r.copied++;
  }
  const { src, dest } = await carry(c, winnerSide, a.path, a.path, winnerEntry);
  r.entries.set(a.path, winnerSide === "local" ? { local: src, remote: dest } : { local: dest, remote: src });
  r.copied++;
  r.conflicts.push(report);
}

/** Actions in flight at once: their fsyncs overlap in libuv's thread pool. */
const IN_FLIGHT = 16;

/**
 * Applies a plan: deletions first (so a folder they empty is gone before a file of that name
 * arrives), then copies and conflicts, several at a time. An action's failure is recorded and the
 * others proceed; when a side's root disappears, the rest fail at once; once `signal` is aborted, the
 * rest are not started. `checkpoint` is called about once a second with the result so far, after the
 * folders written to were fsynced (each copy fsyncs its temp file before its rename).
 */
export async function applyPlan(
  context: ApplyContext,
  actions: readonly Action[],
  checkpoint: (r: ApplyResult) => void = () => undefined,
): Promise<ApplyResult> {
  const c: Ctx = { ...context, dirty: new Set(), dirs: new Set() };
  const r: ApplyResult = {
    copied: 0,
    deleted: 0,
    conflicts: [],
    errors: [],
    entries: new Map(),
    failed: new Set(),
    done: new Set(),
  };
  /** Makes the renames so far durable: an fsync of each folder written to (they overlap). */
  const flush = async (): Promise<void> => {
    const dirs = [...c.dirty];
    c.dirty.clear();
    await pool(dirs, IN_FLIGHT, fsyncDirAsync);
  };
  // a checkpoint rewrites the whole manifest: at most every second, and no more than 5% of the time
  let next = Date.now() + 1000;
  let gone: string | undefined;
  const run = async (a: Exclude<Action, { kind: "skip" }>): Promise<void> => {
    if (c.signal?.aborted) return; // not done: the manifest keeps its previous entries
    try {
      if (gone) throw new Error(gone);
      await applyOne(c, a, r);
    } catch (e) {
      if (!gone && (!existsSync(c.roots.local) || !existsSync(c.roots.remote)))
        gone = "a side became unreachable";
      r.failed.add(a.path);
      r.errors.push({ path: a.path, message: gone ?? (e instanceof Error ? e.message : String(e)) });
    }
    r.done.add(a.path);
    if (Date.now() >= next) {
      const started = Date.now();
      next = Infinity;
      // what is done now, before the flush: actions finishing during it have folders it did not fsync
      const sofar = { ...r, entries: new Map(r.entries), failed: new Set(r.failed), done: new Set(r.done) };
      await flush();
      checkpoint(sofar);
      next = Date.now() + Math.max(1000, 20 * (Date.now() - started));
    }
  };
  const todo = actions.filter((a) => a.kind !== "skip");
  if (todo.length > 0) c.onStart?.(todo.length);
  const limit = IN_FLIGHT;
  await pool(
    todo.filter((a) => a.kind === "delete"),
    limit,
    run,
  );
  await pool(
    todo.filter((a) => a.kind !== "delete"),
    limit,
    run,
  );
  await flush();
  return r;
}
