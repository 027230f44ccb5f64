import { machineName } from "../config/host.js";
import path from "node:path";
import { applyPlan, type ApplyResult } from "./apply.js";
import { blockCollisions, bytesInto, collisions, emptiedSide, freeSpace, tooManyDeletes } from "./guards.js";
import { SideDelta, sameBlock } from "./delta.js";
import { hashSide } from "./hash-side.js";
import { EMPTY_BLOCK, readManifest, writeManifest, type FileEntry, type Side } from "./manifest.js";
import { reconcile } from "./reconcile.js";
import { SideError, type RunOptions, type TargetReport } from "./target-report.js";
import type { RawScan, StatEntry } from "./scan.js";
import type { ResolvedTarget } from "./targets.js";

// The part of a run that plans and applies changes, when a walk differs from the manifest (or a
// database is in the folder).

/** The run so far: its report, and how it refuses or reports a side it cannot read. */
export interface RunSoFar {
  report: TargetReport;
  refuse: (message: string, unreachable?: boolean) => TargetReport;
  unreadable: (e: unknown) => TargetReport;
}

/** Reconciles both walks against the manifest, applies the plan, writes the next manifest. */
export async function syncChanges(
  t: ResolvedTarget,
  o: RunOptions,
  { report, refuse, unreadable }: RunSoFar,
  rawL: RawScan,
  rawR: RawScan,
): Promise<TargetReport> {
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
  const roots = { local: t.localRoot, remote: t.remoteRoot };
  // a file new on one side only, or whose size changed on one side only, is copied whatever its
  // contents: its hash is taken by the copy
  const hashed = (s: Side): Promise<Map<string, FileEntry>> => {
    const o: Side = s === "local" ? "remote" : "local";
    return hashSide(
      roots[s],
      files[s],
      prev[s],
      (p) => files[o].has(p) || prev[o].has(p),
      (p) => side[o].dirty.has(p),
    ).catch((e: unknown) => {
      throw new SideError(s, e);
    });
  };
  let local: Map<string, FileEntry>;
  let remote: Map<string, FileEntry>;
  try {
    [local, remote] = await Promise.all([hashed("local"), hashed("remote")]);
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
  const todo = plan.actions.filter((a) => a.kind !== "skip").length;
  const progress = (what: string): void => o.progress?.(`${t.replica} → ${t.target}: ${what}`);
  const result = await applyPlan(
    {
      roots: { local: t.localRoot, remote: t.remoteRoot },
      backupDir: path.join(t.stateDir, "backups", stamp),
      host: machineName(),
      stamp,
      ...(o.signal ? { signal: o.signal } : {}),
      onStart: (n) => progress(`applying ${n} actions`),
    },
    plan.actions,
    (r) => {
      save(next(r));
      progress(`${r.done.size} of ${todo} actions done (checkpoint recorded)`);
    },
  );
  const n = next(result);
  if (
    plan.actions.length > 0 ||
    !sameBlock(n.local.block, old.local) ||
    !sameBlock(n.remote.block, old.remote)
  )
    save(n);
  const left = todo - result.done.size;
  return {
    ...report,
    ...(left > 0 && o.signal?.aborted
      ? { status: "interrupted", message: `stopped: ${left} actions not started (the next run does them)` }
      : {}),
    copied: result.copied,
    deleted: result.deleted,
    conflicts: result.conflicts,
    errors: result.errors,
  };
}
