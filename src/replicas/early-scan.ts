import { statSync } from "node:fs";
import { manifestPath } from "./manifest.js";
import { scanRecords, type RawScan } from "./scan.js";
import { scanOptions, type ResolvedTarget } from "./targets.js";

/**
 * Both sides of a target walked before its lock is held, so that a command's start (loading the SQLite
 * library, opening the ledger, taking the lock) overlaps the walk. The run uses it only if, once it
 * holds the lock, the target's manifest is still the very file it was when the walk began (so no other
 * run finished in between) and the walk met no temp file of another run; otherwise it walks again.
 * What a run killed meanwhile left behind is then as if it had happened during this run, which the
 * copy and delete checks already guard against (a file changed since the walk is neither overwritten
 * nor deleted; the next run looks at it again). Temp files are never removed by an early walk.
 */
export interface EarlyScan {
  manifest: string;
  scans: Promise<[RawScan, RawScan]>;
}

/** The manifest file's identity (inode, size, mtime): a run that writes it replaces the file. */
export function manifestIdentity(t: ResolvedTarget): string {
  const st = statSync(manifestPath(t.stateDir, t.replica, t.target), { throwIfNoEntry: false, bigint: true });
  return st ? `${st.ino}:${st.size}:${st.mtimeNs}` : "none";
}

export function startEarlyScan(t: ResolvedTarget): EarlyScan {
  const manifest = manifestIdentity(t);
  const o = scanOptions(t, false);
  const scans = Promise.all([scanRecords(t.localRoot, o), scanRecords(t.remoteRoot, o)]);
  scans.catch(() => undefined); // a walk that fails is walked again, and reported, by the run
  return { manifest, scans };
}

/** The early walk, if the run may use it (see EarlyScan). */
export async function usableEarlyScan(
  t: ResolvedTarget,
  early: EarlyScan | undefined,
): Promise<[RawScan, RawScan] | undefined> {
  if (!early || early.manifest !== manifestIdentity(t)) return undefined;
  const got = await early.scans.catch(() => undefined);
  return got && got[0].strayTemps + got[1].strayTemps === 0 ? got : undefined;
}
