import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { errorMessage } from "../errors.js";
import { hasManifest, manifestMatches } from "./manifest-match.js";
import { writeAtomic } from "./fs-atomic.js";
import { MARKER } from "./names.js";
import { syncChanges } from "./sync-changes.js";
import { scanOptions, type ResolvedTarget } from "./targets.js";
import { walkTree } from "./walk-tree.js";

import { SideError, emptyReport, type RunOptions, type TargetReport } from "./target-report.js";

export type { ResolvedTarget } from "./targets.js";
export { emptyReport, type RunOptions, type TargetReport, type TargetStatus } from "./target-report.js";

const isDir = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/**
 * One (replica, target) run: guards, scan, reconcile, apply, manifest. The caller holds its lock (and,
 * for a replica of the state folder, writes the ledger's snapshot when the run ended ok).
 */
export async function runTarget(t: ResolvedTarget, o: RunOptions): Promise<TargetReport> {
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
    if (!o.dryRun) {
      writeAtomic(path.join(t.remoteRoot, MARKER), `syncwarden replica ${t.replica} target ${t.target}\n`);
    }
    report.initialised = true;
  }
  const walk = async (side: "local" | "remote") => {
    try {
      return await walkTree(
        side === "local" ? t.localRoot : t.remoteRoot,
        scanOptions(t, !o.dryRun),
        o.signal,
      );
    } catch (e) {
      throw o.signal?.aborted ? e : new SideError(side, e);
    }
  };
  let rawL, rawR;
  try {
    rawL = await walk("local");
    rawR = await walk("remote");
  } catch (e) {
    if (o.signal?.aborted) return { ...report, status: "interrupted", message: "stopped during the walk" };
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
  // something changed (or a database is here): plan, apply, write the next manifest
  return syncChanges(t, o, { report, refuse, unreadable }, rawL, rawR);
}
