import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import type { ManifestHeader, Side } from "./manifest.js";
import { manifestPath } from "./names.js";

// What a run with nothing to do needs of the manifest, apart from the code that reads it whole.

export function hasManifest(stateDir: string, replica: string, target: string): boolean {
  return existsSync(manifestPath(stateDir, replica, target));
}

/** How much of a manifest manifestMatches reads at a time. */
const SLICE = 1 << 18;

/**
 * The manifest's header if both walks printed exactly its records, else undefined (no manifest, an
 * older one, or any difference: read it whole then). The common case of a run, nothing changed, so
 * needs neither the hashes nor the indices: the records are compared slice by slice through one small
 * buffer instead of reading megabytes into fresh memory.
 */
export function manifestMatches(
  stateDir: string,
  replica: string,
  target: string,
  walks: Record<Side, Buffer>,
): ManifestHeader | undefined {
  let fd: number;
  try {
    fd = openSync(manifestPath(stateDir, replica, target), "r");
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.allocUnsafe(SLICE);
    const got = readSync(fd, buf, 0, SLICE, 0);
    const nl = buf.subarray(0, got).indexOf(10);
    if (nl === -1) return undefined; // a header longer than a slice (many databases): read whole
    const parsed = JSON.parse(buf.toString("utf8", 0, nl)) as ManifestHeader | { version?: unknown };
    if (parsed.version !== 3) return undefined;
    const h = parsed as ManifestHeader;
    const sides = [h.bytes.local, h.bytes.remote];
    const end = sides.flat().reduce((a, b) => a + b, nl + 1);
    if (fstatSync(fd).size !== end) return undefined; // truncated or inconsistent: the whole read says so
    let at = nl + 1;
    for (const s of ["local", "remote"] as const) {
      const [r, ...rest] = h.bytes[s];
      const walk = walks[s];
      if (walk.length !== r) return undefined;
      for (let done = 0; done < r;) {
        const n = readSync(fd, buf, 0, Math.min(SLICE, r - done), at + done);
        if (n <= 0 || walk.compare(buf, 0, n, done, done + n) !== 0) return undefined;
        done += n;
      }
      at += r + rest.reduce((a, b) => a + b, 0);
    }
    return h;
  } finally {
    closeSync(fd);
  }
}
