import type { SideBlock } from "./manifest.js";
import { pathOfRecord, splitRecords } from "./scan.js";

// Pairs a walk's records with the manifest's: which stretches the walk printed exactly as the
// manifest holds them (runs), which of its records the manifest lacks at that place (loose), and which
// of the manifest's it did not print (removed). Native buffer compares do the work: only the records
// at the edges of a difference are decoded.

/** Records this walk printed exactly as the manifest holds them, one after the other. */
export interface Run {
  /** Byte offset of the first one in the walk. */
  at: number;
  /** Index of the first one in the manifest. */
  from: number;
  count: number;
}

/** A record of this walk that the manifest does not hold at this place. */
export interface Loose {
  at: number;
  rec: string;
  path: string;
  /** The manifest's index of the same record elsewhere (a folder listed in another order). */
  was?: number;
  /** The manifest's index of this path's record at this very place (a file changed in place). */
  replaces?: number;
}

/** How far ahead a walk is searched for the record the other one is at (files added or removed there). */
const LOOKAHEAD = 16;

/** Length of the common prefix of a[i..] and b[j..]: doubling steps, then a binary search (native compares only). */
function commonPrefix(a: Buffer, i: number, b: Buffer, j: number): number {
  const max = Math.min(a.length - i, b.length - j);
  let lo = 0;
  let step = 4096;
  while (lo < max) {
    const n = Math.min(step, max - lo);
    if (a.compare(b, j + lo, j + lo + n, i + lo, i + lo + n) === 0) {
      lo += n;
      step *= 2;
      continue;
    }
    let hi = lo + n;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (a.compare(b, j + lo, j + mid, i + lo, i + mid) === 0) lo = mid;
      else hi = mid;
    }
    return lo;
  }
  return lo;
}

/** The largest k in [from, to] with a[k] <= x (a ascending, a[from] <= x). */
export function lastAtMost(a: Int32Array, x: number, from: number, to: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (a[mid]! <= x) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export interface Pairing {
  runs: Run[];
  loose: Loose[];
  removed: Set<number>;
}

/** Pairs the walk `scan` with the manifest side `old` (see the top of this file). */
export function pairWalks(scan: Buffer, old: SideBlock): Pairing {
  const out: Pairing = { runs: [], loose: [], removed: new Set() };
  const oldRec = (j: number): string => old.records.toString("utf8", old.offs[j], old.offs[j + 1]! - 1);
  const walkRec = (at: number): Loose => {
    const rec = scan.toString("utf8", at, scan.indexOf(0, at));
    return { at, rec, path: pathOfRecord(rec) };
  };
  const { runs, loose, removed } = out;
  const offs = old.offs;
  const n = offs.length - 1;
  const end = scan.length;
  let p = 0;
  let oi = 0;
  // side by side pays while the walks mostly agree; a folder listed in another order is paired by index
  const budget = 64 + (n >> 6);
  while (p < end && oi < n) {
    if (loose.length + removed.size > budget) return pairAll(scan, old);
    const q = offs[oi]!;
    const k = lastAtMost(offs, q + commonPrefix(scan, p, old.records, q), oi, n);
    if (k > oi) {
      runs.push({ at: p, from: oi, count: k - oi });
      p += offs[k]! - q;
      oi = k;
      continue;
    }
    const a = walkRec(p);
    const po = pathOfRecord(oldRec(oi));
    if (a.path !== po) {
      // records added here: the manifest's record is a little further on in the walk
      const ahead: Loose[] = [a];
      let at = p + Buffer.byteLength(a.rec, "utf8") + 1;
      while (ahead.length <= LOOKAHEAD && at < end) {
        const x = walkRec(at);
        if (x.path === po) break;
        ahead.push(x);
        at += Buffer.byteLength(x.rec, "utf8") + 1;
      }
      if (at < end && ahead.length <= LOOKAHEAD) {
        loose.push(...ahead);
        p = at;
        continue;
      }
      // records removed here: the walk's record is a little further on in the manifest
      let d = 1;
      while (d <= LOOKAHEAD && oi + d < n && pathOfRecord(oldRec(oi + d)) !== a.path) d++;
      if (d <= LOOKAHEAD && oi + d < n) {
        for (let j = oi; j < oi + d; j++) removed.add(j);
        oi += d;
        continue;
      }
    }
    // changed in place (or no telling): the walk's record is loose, the manifest's removed
    if (a.path === po) a.replaces = oi;
    loose.push(a);
    removed.add(oi);
    p += Buffer.byteLength(a.rec, "utf8") + 1;
    oi++;
  }
  while (p < end) {
    const x = walkRec(p);
    loose.push(x);
    p += Buffer.byteLength(x.rec, "utf8") + 1;
  }
  for (; oi < n; oi++) removed.add(oi);
  // records listed in another order: the same bytes on both lists are paired, not changes
  if (loose.length > 0 && removed.size > 0) {
    const byRec = new Map<string, number>();
    for (const j of removed) byRec.set(oldRec(j), j);
    for (const l of loose) {
      const j = byRec.get(l.rec);
      if (j === undefined) continue;
      l.was = j;
      removed.delete(j);
      byRec.delete(l.rec);
    }
  }
  return out;
}

/** Pairs every record of the walk with the manifest's identical one through an index of all of them. */
function pairAll(scan: Buffer, old: SideBlock): Pairing {
  const out: Pairing = { runs: [], loose: [], removed: new Set() };
  const n = old.offs.length - 1;
  const byRec = new Map<string, number>();
  splitRecords(old.records).forEach((r, j) => byRec.set(r, j));
  const seen = new Uint8Array(n);
  let at = 0;
  let run: Run | undefined;
  for (const rec of splitRecords(scan)) {
    const j = byRec.get(rec);
    if (j === undefined) {
      out.loose.push({ at, rec, path: pathOfRecord(rec) });
      run = undefined;
    } else {
      seen[j] = 1;
      if (run && run.from + run.count === j) run.count++;
      else out.runs.push((run = { at, from: j, count: 1 }));
    }
    at += Buffer.byteLength(rec, "utf8") + 1;
  }
  for (let j = 0; j < n; j++) if (!seen[j]) out.removed.add(j);
  return out;
}
