import type { ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cacheDir } from "../config/cache-dir.js";
import { manifestPath } from "./names.js";
import { scanPair } from "./find-walk.js";
import type { RawScan, ScanOptions } from "./scan.js";
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

/** A file's identity (inode, size, mtime): a run that writes the manifest replaces the file. */
function identity(file: string): string {
  const st = statSync(file, { throwIfNoEntry: false, bigint: true });
  return st ? `${st.ino}:${st.size}:${st.mtimeNs}` : "none";
}

/** The identity of the target's manifest. */
const manifestIdentity = (t: ResolvedTarget): string =>
  identity(manifestPath(t.stateDir, t.replica, t.target));

/** What an early walk walks: the two roots with their options, and the manifest it is checked against. */
interface WalkPlan {
  roots: [string, string];
  options: ScanOptions;
  manifest: string;
}

const planOf = (t: ResolvedTarget): WalkPlan => ({
  roots: [t.localRoot, t.remoteRoot],
  options: scanOptions(t, false),
  manifest: manifestPath(t.stateDir, t.replica, t.target),
});

function walk(plan: WalkPlan, onSpawn?: (child: ChildProcess) => void): EarlyScan {
  const manifest = identity(plan.manifest);
  const scans = Promise.all(scanPair(plan.roots, plan.options, onSpawn));
  scans.catch(() => undefined); // a walk that fails is walked again, and reported, by the run
  return { manifest, scans };
}

export function startEarlyScan(t: ResolvedTarget): EarlyScan {
  return walk(planOf(t));
}

// ---- started at the CLI's first line ------------------------------------------------------------
//
// Node takes a good part of a `replicate` with nothing to do just to start, and loading the command
// line parser and the config comes next; the walks need neither, only the roots. So each run of the
// CLI remembers, in the cache folder, what its first target's walk was for its exact command line and
// working folder, and the next run with the same command line starts that walk before anything else
// loads. The command then takes it only if it walks the very roots, with the very options, that the
// parsed command line and configuration give; else it is stopped and the right one started.

const PLANS = "walk-plans.json";
/** Command lines remembered (the oldest forgotten first). */
const KEEP = 32;

const keyOf = (argv: readonly string[], cwd: string): string => JSON.stringify([cwd, ...argv.slice(2)]);

let started: { key: string; plan: WalkPlan; early: EarlyScan; children: ChildProcess[] } | undefined;

/** The remembered plans by command line, oldest first. */
function readPlans(dir: string): Map<string, WalkPlan> {
  try {
    return new Map(JSON.parse(readFileSync(path.join(dir, PLANS), "utf8")) as [string, WalkPlan][]);
  } catch {
    return new Map();
  }
}

/**
 * Starts the walk remembered for this command line, if any. Never throws: a missing or unreadable
 * cache, or anything else, only means no head start. `replicate` in the arguments is a hint to skip
 * the file for other commands, not a parse: the plan is keyed by the whole command line.
 */
export function prefetchWalk(
  argv: readonly string[],
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): void {
  try {
    if (!argv.slice(2).includes("replicate")) return;
    const dir = cacheDir(env);
    if (dir === undefined) return;
    const key = keyOf(argv, cwd);
    const plan = readPlans(dir).get(key);
    if (plan === undefined) return;
    const children: ChildProcess[] = [];
    started = { key, plan, early: walk(plan, (c) => children.push(c)), children };
  } catch {
    // no head start
  }
}

/** The walk prefetchWalk started and no run has taken yet (for tests). */
export const prefetched = (): EarlyScan | undefined => started?.early;

/**
 * The early walk of a run's first target: the one started at the first line if it walks what this
 * target needs, else a new one. Remembers the target's walk for the next run of this command line.
 */
export function earlyScanFor(
  t: ResolvedTarget,
  argv: readonly string[] = process.argv,
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): EarlyScan {
  const plan = planOf(t);
  const key = keyOf(argv, cwd);
  const head = started;
  started = undefined;
  const same = head !== undefined && head.key === key && JSON.stringify(head.plan) === JSON.stringify(plan);
  if (head !== undefined && !same) for (const c of head.children) c.kill();
  if (!same) remember(key, plan, env);
  return same ? head.early : walk(plan);
}

/** Writes the plan for a command line (atomically; a cache that cannot be written is ignored). */
function remember(key: string, plan: WalkPlan, env: NodeJS.ProcessEnv): void {
  const dir = cacheDir(env);
  if (dir === undefined) return;
  try {
    const plans = readPlans(dir);
    plans.delete(key); // set again last: the newest
    plans.set(key, plan);
    for (const k of [...plans.keys()].slice(0, Math.max(0, plans.size - KEEP))) plans.delete(k);
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, PLANS);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify([...plans]));
    renameSync(tmp, file);
  } catch {
    // a read-only home: no head start next time
  }
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
