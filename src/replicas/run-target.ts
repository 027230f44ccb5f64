import { existsSync, statSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { errorMessage } from "../errors.js";
import { applyPlan, type ApplyResult, type ConflictReport } from "./apply.js";
import { writeAtomic } from "./fs-atomic.js";
import { blockCollisions, bytesInto, collisions, emptiedSide, freeSpace, tooManyDeletes } from "./guards.js";
import { manifestPath, readManifest, toMap, writeManifest, type FileEntry } from "./manifest.js";
import { reconcile, type Action, type ConflictStrategy, type Direction } from "./reconcile.js";
import { hashSide, MARKER, mtimeOnlyShift, scanTree, type ScanOptions } from "./scan.js";

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

export function scanOptions(t: ResolvedTarget, removeTemps: boolean): ScanOptions {
  const own = path.resolve(t.localRoot) === path.resolve(t.stateDir);
  return {
    excludeDirs: [path.join(t.stateDir, "replicas"), path.join(t.stateDir, "backups")],
    excludeFiles: own ? ["state.db"] : [],
    removeTemps,
  };
}

const isDir = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** One (replica, target) run: guards, scan, reconcile, apply, then the manifest. The caller holds its lock. */
export async function runTarget(t: ResolvedTarget, o: RunOptions): Promise<TargetReport> {
  const report = emptyReport(t, "ok");
  const refuse = (message: string, unreachable = false): TargetReport => ({
    ...report,
    status: "refused",
    message,
    ...(unreachable ? { unreachable } : {}),
  });
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
  const prevLocal = toMap(manifest?.local);
  const prevRemote = toMap(manifest?.remote);
  let scanL, scanR;
  try {
    scanL = scanTree(t.localRoot, scanOptions(t, !o.dryRun));
  } catch (e) {
    return refuse(`cannot read ${t.localRoot}: ${errorMessage(e)}`);
  }
  try {
    scanR = scanTree(t.remoteRoot, scanOptions(t, !o.dryRun));
  } catch (e) {
    return { ...refuse(`cannot read ${t.remoteRoot}: ${errorMessage(e)}`, true), status: "error" };
  }
  report.symlinksOutside = [...scanL.symlinksOutside, ...scanR.symlinksOutside.map((p) => `(remote) ${p}`)];
  const empty = emptiedSide(
    { local: scanL.files.size, remote: scanR.files.size },
    { local: prevLocal.size, remote: prevRemote.size },
  );
  if (empty) return refuse(empty);
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
    local = hashSide(t.localRoot, scanL.files, prevLocal);
  } catch (e) {
    return refuse(`cannot read ${t.localRoot}: ${errorMessage(e)}`);
  }
  try {
    remote = hashSide(t.remoteRoot, scanR.files, prevRemote);
  } catch (e) {
    return { ...refuse(`cannot read ${t.remoteRoot}: ${errorMessage(e)}`, true), status: "error" };
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
  /** The manifest after `applied` actions: their new entries, the previous ones for the rest. */
  const save = (result: ApplyResult, applied: number): void => {
    const entries = new Map(plan.settled);
    for (const [n, a] of plan.actions.entries()) {
      const keep = n >= applied || a.kind === "skip" || result.failed.has(a.path);
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
  save(result, plan.actions.length);
  return {
    ...report,
    copied: result.copied,
    deleted: result.deleted,
    conflicts: result.conflicts,
    errors: result.errors,
  };
}
