import { existsSync, statSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { errorMessage } from "../errors.js";
import { applyPlan, type ApplyResult, type ConflictReport } from "./apply.js";
import { writeAtomic } from "./fs-atomic.js";
import { blockCollisions, bytesInto, collisions, emptiedSide, freeSpace, tooManyDeletes } from "./guards.js";
import { SideDelta, sameBlock } from "./delta.js";
import {
  EMPTY_BLOCK,
  hasManifest,
  manifestMatches,
  readManifest,
  writeManifest,
  type FileEntry,
  type Side,
} from "./manifest.js";
import { reconcile, type Action } from "./reconcile.js";
import { usableEarlyScan, type EarlyScan } from "./early-scan.js";
import { hashSide } from "./hash-side.js";
import { MARKER, scanRecords, type StatEntry } from "./scan.js";
import { stateSnapshotPath, writeStateSnapshot } from "./state-snapshot.js";
import { ownsState, scanOptions, type ResolvedTarget } from "./targets.js";

export type { ResolvedTarget } from "./targets.js";

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

/** A failure to read one side, so the report can say which. */
class SideError extends Error {
  constructor(
    readonly side: "local" | "remote",
    override readonly cause: unknown,
  ) {
    super(errorMessage(cause));
  }
}

const isDir = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/**
 * One (replica, target) run: guards, scan, reconcile, apply, then the manifest; then, for a replica of
 * the state folder that ended ok, the state snapshot when due. The caller holds its lock.
 */
export async function runTarget(t: ResolvedTarget, o: RunOptions, early?: EarlyScan): Promise<TargetReport> {
  const report = await syncTarget(t, o, early);
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
async function syncTarget(
  t: ResolvedTarget,
  o: RunOptions,
  early: EarlyScan | undefined,
): Promise<TargetReport> {
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
  const known = hasManifest(t.stateDir, t.replica, t.target);
  if (!existsSync(path.join(t.remoteRoot, MARKER))) {
    if (known)
      return refuse(`${t.remoteRoot} has no ${MARKER} marker: unmounted or the wrong folder; refusing`, true);
    if (!o.dryRun)
      writeAtomic(path.join(t.remoteRoot, MARKER), `syncwarden replica ${t.replica} target ${t.target}\n`);
    report.initialised = true;
  }
  // a walk started before the lock, if still valid; not when this run just made the marker (the
  // manifest then records the walk that sees it)
  const walked = report.initialised ? undefined : await usableEarlyScan(t, early);
  let rawL, rawR;
  try {
    [rawL, rawR] =
      walked ??
      (await Promise.all([
        scanRecords(t.localRoot, scanOptions(t, !o.dryRun)).catch((e: unknown) => {
          throw new SideError("local", e);
        }),
        scanRecords(t.remoteRoot, scanOptions(t, !o.dryRun)).catch((e: unknown) => {
          throw new SideError("remote", e);
        }),
      ]));
  } catch (e) {
    return unreadable(e);
  }
  report.symlinksOutside = [...rawL.symlinksOutside, ...rawR.symlinksOutside.map((p) => `(remote) ${p}`)];
  // the common case, both walks exactly the manifest's and no database: nothing to read, hash, plan or write
  if (known) {
    const same = manifestMatches(t.stateDir, t.replica, t.target, {
      local: rawL.records,
      remote: rawR.records,
    });
    if (same && same.sqlite.local.length === 0 && same.sqlite.remote.length === 0)
      return o.dryRun ? { ...report, status: "dry-run", plan: [] } : report;
  }
  const manifest = readManifest(t.stateDir, t.replica, t.target);
  const old = { local: manifest?.local ?? EMPTY_BLOCK, remote: manifest?.remote ?? EMPTY_BLOCK };
  const side = {
    local: new SideDelta(
      rawL.records,
      old.local,
      new Set(manifest?.header.sqlite.local),
      manifest?.header.counts.local ?? 0,
    ),
    remote: new SideDelta(
      rawR.records,
      old.remote,
      new Set(manifest?.header.sqlite.remote),
      manifest?.header.counts.remote ?? 0,
    ),
  };
  const empty = emptiedSide(
    { local: side.local.files, remote: side.remote.files },
    manifest?.header.counts ?? { local: 0, remote: 0 },
  );
  if (empty) return refuse(empty);
  if (!o.force) {
    for (const s of ["local", "remote"] as const) {
      const { shifted, known } = side[s].mtimeShift(t.windowMs);
      if (known >= 10 && shifted / known > 0.9)
        return refuse(
          `${shifted} of ${known} files on the ${s} side changed mtime only, with the same sizes: a clock or time-zone shift? refusing; rerun with --force to compare contents`,
        );
    }
  }
  // only the paths whose records differ on either side are looked at; the rest is unchanged on both
  const dirty = new Set([...side.local.dirty, ...side.remote.dirty]);
  const files = { local: new Map<string, StatEntry>(), remote: new Map<string, StatEntry>() };
  const prev = { local: new Map<string, FileEntry>(), remote: new Map<string, FileEntry>() };
  for (const p of dirty)
    for (const s of ["local", "remote"] as const) {
      const cur = side[s].current(p);
      if (cur) files[s].set(p, cur);
      const was = side[s].previous(p);
      if (was) prev[s].set(p, was);
    }
  let local: Map<string, FileEntry>;
  let remote: Map<string, FileEntry>;
  try {
    // a file new on one side only is copied whatever its contents: its hash is taken by the copy
    [local, remote] = await Promise.all([
      hashSide(t.localRoot, files.local, prev.local, (p) => files.remote.has(p) || prev.remote.has(p)).catch(
        (e: unknown) => {
          throw new SideError("local", e);
        },
      ),
      hashSide(t.remoteRoot, files.remote, prev.remote, (p) => files.local.has(p) || prev.local.has(p)).catch(
        (e: unknown) => {
          throw new SideError("remote", e);
        },
      ),
    ]);
  } catch (e) {
    return unreadable(e);
  }
  const plan = reconcile({ local, remote, prevLocal: prev.local, prevRemote: prev.remote, ...t });
  report.collisions = collisions(plan, side);
  blockCollisions(plan, report.collisions);
  if (!o.force) {
    const many = tooManyDeletes(plan, { local: side.local.files, remote: side.remote.files }, t.maxDelete);
    if (many) return { ...refuse(many), plan: plan.actions };
  }
  for (const s of ["local", "remote"] as const) {
    const room = freeSpace(s === "local" ? t.localRoot : t.remoteRoot, bytesInto(plan, s));
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
  const actionAt = new Map(plan.actions.map((a) => [a.path, a]));
  /** The manifest after the actions done so far: their new entries, the previous ones for the rest. */
  const next = (result: ApplyResult) => {
    const final = {
      local: new Map<string, FileEntry | undefined>(),
      remote: new Map<string, FileEntry | undefined>(),
    };
    const entryAt = (p: string, s: Side): FileEntry | undefined => {
      const a = actionAt.get(p);
      if (!a) return plan.settled.get(p)?.[s];
      const keep = !result.done.has(p) || a.kind === "skip" || result.failed.has(p);
      return keep ? prev[s].get(p) : result.entries.get(p)?.[s];
    };
    for (const p of new Set([...dirty, ...result.entries.keys()]))
      for (const s of ["local", "remote"] as const) final[s].set(p, entryAt(p, s));
    // files a side received go where its walk will likely list them: where the other side's walk did
    return {
      local: side.local.next(final.local, (p) => side.remote.position(p)),
      remote: side.remote.next(final.remote, (p) => side.local.position(p)),
    };
  };
  const save = (n: ReturnType<typeof next>): void =>
    writeManifest(t.stateDir, {
      replica: t.replica,
      target: t.target,
      local: n.local.block,
      remote: n.remote.block,
      counts: { local: n.local.count, remote: n.remote.count },
      sqlite: { local: n.local.sqlite, remote: n.remote.sqlite },
    });
  const result = await applyPlan(
    {
      roots: { local: t.localRoot, remote: t.remoteRoot },
      backupDir: path.join(t.stateDir, "backups", stamp),
      host: hostname(),
      stamp,
    },
    plan.actions,
    (r) => save(next(r)),
  );
  const n = next(result);
  if (
    plan.actions.length > 0 ||
    manifest?.legacy !== undefined ||
    !sameBlock(n.local.block, old.local) ||
    !sameBlock(n.remote.block, old.remote)
  )
    save(n);
  return {
    ...report,
    copied: result.copied,
    deleted: result.deleted,
    conflicts: result.conflicts,
    errors: result.errors,
  };
}
