// A record's mtime text, in GNU find's `%T@` format (the manifest's format since it was find's): a walk
// prints it, a stat of a file just written is turned into it, and the manifest keeps it, so "unchanged
// since the last run" is a comparison of bytes.

const NS = 1_000_000_000n;

/** find's `%T@` for an mtime in nanoseconds: whole seconds, a dot, ten digits (the nanoseconds and a 0). */
export function stampOf(mtimeNs: bigint): string {
  if (mtimeNs >= NS) {
    const digits = String(mtimeNs); // cheaper than bigint division, on every file of a walk
    return `${digits.slice(0, -9)}.${digits.slice(-9)}0`;
  }
  let sec = mtimeNs / NS;
  let frac = mtimeNs % NS;
  if (frac < 0n) {
    sec -= 1n;
    frac += NS;
  }
  return `${sec}.${String(frac).padStart(9, "0")}0`;
}

/** Milliseconds from a `%T@` stamp, computed as Node's fs.Stats computes mtimeMs (the two agree to the bit). */
export function mtimeMsOf(stamp: string): number {
  const dot = stamp.indexOf(".");
  if (dot === -1) return Number(stamp) * 1000;
  const frac = stamp.slice(dot + 1, dot + 10).padEnd(9, "0");
  return Number(stamp.slice(0, dot)) * 1000 + Number(frac) / 1e6;
}
