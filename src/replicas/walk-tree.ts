import { lstatSync, readdirSync, realpathSync, rmSync, type Dirent } from "node:fs";
import path from "node:path";
import { setImmediate as turn } from "node:timers/promises";
import { MARKER, TMP_PREFIX } from "./names.js";
import { filesOf, type RawScan, type ScanOptions, type ScanResult } from "./scan.js";
import { stampOf } from "./stamp.js";
import { isSqliteSidecar } from "./sqlite-files.js";

// The walk of one side, in this process: readdir and a bigint lstat per file, synchronous (measured
// faster here than lstat through libuv's thread pool, whose round trip costs more than the call).

/** How long the walk holds the thread before it lets the event loop turn (a signal can then stop it). */
const SLICE_MS = 20;

/**
 * Walks a root without following symlinks below it (the root itself may be one: a mount, a cloud
 * folder) and prints its records (see RawScan) in the order the folders list their entries, depth
 * first. Left out: folders in `excludeDirs`, the marker at the top, `excludeFiles`, SQLite sidecars.
 * Our temp files are typed T (and removed when `removeTemps`); symlinks are typed l and those pointing
 * outside the root reported. Throws when the root cannot be read; a folder that vanishes meanwhile is
 * skipped. Checks `signal` between folders.
 */
export async function walkTree(root: string, o: ScanOptions, signal?: AbortSignal): Promise<RawScan> {
  const realRoot = realpathSync(root); // throws for a missing or unreadable root
  const excluded = new Set(o.excludeDirs);
  const out: string[] = [];
  const temps: string[] = [];
  const links: string[] = [];
  let since = performance.now();
  const walk = async (dir: string, relDir: string): Promise<void> => {
    if (performance.now() - since > SLICE_MS) {
      await turn();
      since = performance.now();
    }
    signal?.throwIfAborted();
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (relDir !== "" && (e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    const base = dir.endsWith(path.sep) ? dir : dir + path.sep; // normalised: no path.join per entry
    for (const d of entries) {
      const r = relDir === "" ? d.name : `${relDir}/${d.name}`;
      const abs = base + d.name;
      if (d.name.startsWith(TMP_PREFIX)) {
        out.push(`T\t0\t0\t${r}\0`);
        temps.push(abs);
      } else if (d.isSymbolicLink()) {
        out.push(`l\t0\t0\t${r}\0`);
        links.push(r);
      } else if (d.isDirectory()) {
        if (!excluded.has(abs)) await walk(abs, r);
      } else if (d.isFile()) {
        if ((relDir === "" && d.name === MARKER) || isSqliteSidecar(d.name) || o.excludeFiles.includes(r))
          continue;
        const st = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
        if (st) out.push(`f\t${st.size}\t${stampOf(st.mtimeNs)}\t${r}\0`); // recordOf's, written out
      }
    }
  };
  await walk(path.resolve(root), "");
  if (o.removeTemps) for (const t of temps) rmSync(t, { force: true, recursive: true });
  return {
    records: Buffer.from(out.join(""), "utf8"),
    symlinksOutside: links.filter((r) => !inside(realRoot, path.join(root, r))),
    strayTemps: temps.length,
  };
}

/** True when a symlink resolves to a place under the root (a dangling one does not). */
function inside(realRoot: string, link: string): boolean {
  let target: string;
  try {
    target = realpathSync(link);
  } catch {
    return false;
  }
  return target === realRoot || target.startsWith(realRoot + path.sep);
}

/** walkTree, its files parsed (for verify and tools; a run compares the records as bytes). */
export async function scanTree(root: string, o: ScanOptions, signal?: AbortSignal): Promise<ScanResult> {
  const raw = await walkTree(root, o, signal);
  return { files: filesOf(raw.records), symlinksOutside: raw.symlinksOutside, strayTemps: raw.strayTemps };
}
