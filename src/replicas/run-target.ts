import { existsSync, statSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { errorMessage } from "../errors.js";
import { applyPlan, type ApplyResult, type ConflictReport } from "./apply.js";
import { writeAtomic } from "./fs-atomic.js";
import { blockCollisions, bytesInto, collisions, emptiedSide, freeSpace, tooManyDeletes } from "./guards.js";
import {
  manifestPath,
  readManifest,
  statDigest,
  toMap,
  writeManifest,
  type FileEntry,
  type LoadedManifest,
} from "./manifest.js";
import { reconcile, type Action, type ConflictStrategy, type Direction } from "./reconcile.js";
import { hashSide, MARKER, mtimeOnlyShift, scanTreeFast, type ScanOptions, type StatEntry } from "./scan.js";
import { SNAPSHOT_DIR, stateSnapshotPath, writeStateSnapshot } from "./state-snapshot.js";

/** A replica target with its paths resolved and the command line's overrides applied. */
export interface ResolvedTarget {
  replica: string;
  target: string;
  localRoot: string;
  remoteRoot: string;
  stateDir: string;
  direction: Direction;
  conflict: ConflictStrategy;
  maxDelete: number;
  windowMs: number;
}

export interface RunOptions {
  dryRun: boolean;
  force: boolean;
}

export type TargetStatus = "ok" | "dry-run" | "skipped" | "refused" | "error" | "locked";

export interface TargetReport {
  replica: string;
  target: string;
  status: TargetStatus;
  message?: string;
  /** True when the target looked unreachable (counts as a breaker failure). */
  unreachable?: boolean;
  initialised?: boolean;
  copied: number;
  deleted: number;
  conflicts: ConflictReport[];
  skipped: { path: string; reason: string }[];
  errors: { path: string; message: string }[];
  collisions: string[][];
  symlinksOutside: string[];
  plan?: Action[];
  /** The state snapshot written to the target this run (replicas of the state folder, at most hourly). */
  snapshot?: string;
}

export function emptyReport(
  t: { replica: string; target: string },
  status: TargetStatus,
  message?: string,
): TargetReport {
  return {
    replica: t.replica,
    target: t.target,
    status,
    ...(message === undefined ? {} : { message }),
    copied: 0,
    deleted: 0,
    conflicts: [],
    skipped: [],
    errors: [],
    collisions: [],
    symlinksOutside: [],
  };
}

/** True when the replica's folder is the state folder (its `state.db` is snapshotted, not reconciled). */
const ownsState = (t: ResolvedTarget): boolean => path.resolve(t.localRoot) === path.resolve(t.stateDir);

/** The same options serve both roots: each root's snapshot folder is listed (absolute paths). */
export function scanOptions(t: ResolvedTarget, removeTemps: boolean): ScanOptions {
  return {
    excludeDirs: [
      path.join(t.stateDir, "replicas"),
      path.join(t.stateDir, "backups"),
      path.join(t.localRoot, SNAPSHOT_DIR),
      path.join(t.remoteRoot, SNAPSHOT_DIR),
    ],
    excludeFiles: ownsState(t) ? ["state.db"] : [],
    removeTemps,
  };
}

/** A failure to read one side, so the report can say which. */
class SideError extends Error {
  constructor(
    readonly side: "local" | "remote",
    override readonly cause: unknown,
  ) {
    super(errorMessage(cause));
  }
}

const same = (a: FileEntry | undefined, b: FileEntry | undefined): boolean =>
  a === b ||
  (a !== undefined &&
    b !== undefined &&
    a.size === b.size &&
    a.mtimeMs === b.mtimeMs &&
    a.sha256 === b.sha256 &&
    a.sqlite === b.sqlite);

/** True when the settled entries are exactly the manifest's (a run with nothing to do rewrites nothing). */
function sameEntries(
  manifest: LoadedManifest | undefined,
  local: Map<string, FileEntry>,
  remote: Map<string, FileEntry>,
  settled: Map<string, { local?: FileEntry; remote?: FileEntry }>,
): boolean {
  if (!manifest) return settled.size === 0;
  let n = 0;
  for (const e of settled.values()) n += (e.local ? 1 : 0) + (e.remote ? 1 : 0);
  if (n !== local.size + remote.size) return false;
  for (const [p, e] of settled)
    if (!same(e.local, local.get(p)) || !same(e.remote, remote.get(p))) return false;
  return true;
}

/** True when a side's files have exactly the paths, sizes and mtimes the manifest recorded (see statDigest). */
function unchangedSince(files: Map<string, StatEntry>, digest: string | null): boolean {
  return digest !== null && statDigest(files.values()) === digest;
}

const isDir = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/**
 * One (replica, target) run: guards, scan, reconcile, apply, then the manifest; then, for a replica of
 * the state folder that ended ok, the state snapshot when due. The caller holds its lock.
 */
export async function runTarget(t: ResolvedTarget, o: RunOptions): Promise<TargetReport> {
  const report = await syncTarget(t, o);
  return report.status === "ok" && !o.dryRun && ownsState(t) ? withSnapshot(t, report) : report;
}

/** Writes the state snapshot when due; a failure is one more error in the report, never a failed run. */
async function withSnapshot(t: ResolvedTarget, report: TargetReport): Promise<TargetReport> {
  try {
    const snapshot = await writeStateSnapshot(t.stateDir, t.remoteRoot);
    return snapshot === undefined ? report : { ...report, snapshot };
  } catch (e) {
    const error = { path: stateSnapshotPath(t.remoteRoot), message: errorMessage(e) };
    return { ...report, errors: [...report.errors, error] };
  }
}

/** The file sync itself: guards, scan, reconcile, apply, manifest. */
async function syncTarget(t: ResolvedTarget, o: RunOptions): Promise<TargetReport> {
  const report = emptyReport(t, "ok");
  const refuse = (message: string, unreachable = false): TargetReport => ({
    ...report,
    status: "refused",
    message,
    ...(unreachable ? { unreachable } : {}),
  });
  /** A side that cannot be read: the local folder is refused; the target counts as unreachable. */
  const unreadable = (e: unknown): TargetReport => {
    if (!(e instanceof SideError)) throw e;
    const root = e.side === "local" ? t.localRoot : t.remoteRoot;
    const r = refuse(`cannot read ${root}: ${errorMessage(e.cause)}`, e.side === "remote");
    return e.side === "remote" ? { ...r, status: "error" } : r;
  };
  if (!isDir(t.remoteRoot))
    return { ...refuse(`target folder ${t.remoteRoot} is missing (unmounted?)`, true), status: "error" };
  if (!isDir(t.localRoot)) return refuse(`local folder ${t.localRoot} is missing`);
  const mfile = manifestPath(t.stateDir, t.replica, t.target);
  const manifest = readManifest(mfile);
  if (!existsSync(path.join(t.remoteRoot, MARKER))) {
    if (manifest)
      return refuse(`${t.remoteRoot} has no ${MARKER} marker: unmounted or the wrong folder; refusing`, true);
    if (!o.dryRun)
      writeAtomic(path.join(t.remoteRoot, MARKER), `syncwarden replica ${t.replica} target ${t.target}\n`);
    report.initialised = true;
  }
  let scanL, scanR;
  try {
    [scanL, scanR] = await Promise.all([
      scanTreeFast(t.localRoot, scanOptions(t, !o.dryRun)).catch((e: unknown) => {
        throw new SideError("local", e);
      }),
      scanTreeFast(t.remoteRoot, scanOptions(t, !o.dryRun)).catch((e: unknown) => {
        throw new SideError("remote", e);
      }),
    ]);
  } catch (e) {
    return unreadable(e);
  }
  report.symlinksOutside = [...scanL.symlinksOutside, ...scanR.symlinksOutside.map((p) => `(remote) ${p}`)];
  const empty = emptiedSide(
    { local: scanL.files.size, remote: scanR.files.size },
    manifest?.header.counts ?? { local: 0, remote: 0 },
  );
  if (empty) return refuse(empty);
  // the common case, nothing changed on either side since the manifest: no hashing, no plan, no write
  if (
    manifest &&
    unchangedSince(scanL.files, manifest.header.stat.local) &&
    unchangedSince(scanR.files, manifest.header.stat.remote)
  )
    return o.dryRun ? { ...report, status: "dry-run", plan: [] } : report;
  const prev = manifest?.entries();
  const prevLocal = toMap(prev?.local);
  const prevRemote = toMap(prev?.remote);
  if (!o.force) {
    for (const [side, files, prev] of [
      ["local", scanL.files, prevLocal],
      ["remote", scanR.files, prevRemote],
    ] as const) {
      const s = mtimeOnlyShift(files, prev, t.windowMs);
      if (s.known >= 10 && s.shifted / s.known > 0.9)
        return refuse(
          `${s.shifted} of ${s.known} files on the ${side} side changed mtime only, with the same sizes: a clock or time-zone shift? refusing; rerun with --force to compare contents`,
        );
    }
  }
  let local: Map<string, FileEntry>;
  let remote: Map<string, FileEntry>;
  try {
    // a file new on one side only is copied whatever its contents: its hash is taken by the copy
    const filesL = scanL.files;
    const filesR = scanR.files;
    [local, remote] = await Promise.all([
      hashSide(t.localRoot, filesL, prevLocal, (p) => filesR.has(p) || prevRemote.has(p)).catch(
        (e: unknown) => {
          throw new SideError("local", e);
        },
      ),
      hashSide(t.remoteRoot, filesR, prevRemote, (p) => filesL.has(p) || prevLocal.has(p)).catch(
        (e: unknown) => {
          throw new SideError("remote", e);
        },
      ),
    ]);
  } catch (e) {
    return unreadable(e);
  }
  const plan = reconcile({ local, remote, prevLocal, prevRemote, ...t });
  report.collisions = collisions(plan, { local, remote });
  blockCollisions(plan, report.collisions);
  if (!o.force) {
    const many = tooManyDeletes(plan, { local: local.size, remote: remote.size }, t.maxDelete);
    if (many) return { ...refuse(many), plan: plan.actions };
  }
  for (const side of ["local", "remote"] as const) {
    const room = freeSpace(side === "local" ? t.localRoot : t.remoteRoot, bytesInto(plan, side));
    if (room) return refuse(room);
  }
  report.skipped = plan.actions.flatMap((a) =>
    a.kind === "skip" ? [{ path: a.path, reason: a.reason }] : [],
  );
  if (o.dryRun) {
    report.status = "dry-run";
    report.plan = plan.actions;
    report.copied = plan.actions.filter((a) => a.kind === "copy").length;
    report.deleted = plan.actions.filter((a) => a.kind === "delete").length;
    return report;
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, "");
  /** The manifest after the actions done so far: their new entries, the previous ones for the rest. */
  const save = (result: ApplyResult): void => {
    const entries = new Map(plan.settled);
    for (const a of plan.actions) {
      const keep = !result.done.has(a.path) || a.kind === "skip" || result.failed.has(a.path);
      const next = keep ? undefined : result.entries.get(a.path);
      const l = keep ? prevLocal.get(a.path) : next?.local;
      const r = keep ? prevRemote.get(a.path) : next?.remote;
      if (l || r) entries.set(a.path, { ...(l ? { local: l } : {}), ...(r ? { remote: r } : {}) });
      else entries.delete(a.path);
    }
    for (const [p, e] of result.entries) if (!entries.has(p) && (e.local ?? e.remote)) entries.set(p, e);
    writeManifest(mfile, {
      replica: t.replica,
      target: t.target,
      local: [...entries.values()].flatMap((e) => (e.local ? [e.local] : [])),
      remote: [...entries.values()].flatMap((e) => (e.remote ? [e.remote] : [])),
    });
  };
  const result = await applyPlan(
    {
      roots: { local: t.localRoot, remote: t.remoteRoot },
      backupDir: path.join(t.stateDir, "backups", stamp),
      host: hostname(),
      stamp,
    },
    plan.actions,
    save,
  );
  if (plan.actions.length > 0 || !sameEntries(manifest, prevLocal, prevRemote, plan.settled)) save(result);
  return {
    ...report,
    copied: result.copied,
    deleted: result.deleted,
    conflicts: result.conflicts,
    errors: result.errors,
  };
}
