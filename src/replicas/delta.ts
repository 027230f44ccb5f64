import { shaAt, putSha, HASH_BYTES, type FileEntry, type SideBlock } from "./manifest.js";
import { parseRecord, pathOfRecord, recordOf, splitRecords, withinWindow, type StatEntry } from "./scan.js";

const F = 102; // "f": a regular file's record
const Q = 63; // "?": a file recorded without a walk's stamp (always looked at again)
const T = 84; // "T": one of our temp files (removed by the walk)

/**
 * One side of a run: this walk's records beside the manifest's. A record is the file's type, size,
 * mtime and path as find prints them, so a file whose record is byte-identical to the manifest's is
 * unchanged since the last sync and needs no look at all; only the paths whose records differ (and the
 * databases, which a stat cannot vouch for) are parsed, hashed and reconciled. A walk identical to the
 * manifest's, byte for byte, costs one buffer comparison.
 */
export class SideDelta {
  /** This walk printed exactly the manifest's records. */
  readonly identical: boolean;
  /** Paths whose record is new or gone (added, changed, deleted), and the databases. */
  readonly dirty = new Set<string>();
  /** Regular files this walk saw. */
  readonly files: number;
  /** The manifest's file records that this walk did not print, by path. */
  private readonly gone = new Map<string, number>();
  private walk?: { recs: string[]; oldRecs: string[]; match: Int32Array };
  private byPath?: Map<string, number>;

  /** `count`: the manifest's count of files on this side. */
  constructor(
    private readonly scan: Buffer,
    private readonly old: SideBlock,
    private readonly sqlite: ReadonlySet<string>,
    count: number,
  ) {
    this.identical = scan.equals(old.records);
    if (this.identical)
      this.files = count; // the records are split only if the other side needs a look here
    else {
      const { recs, oldRecs, match } = this.split();
      const seen = align(recs, oldRecs, match);
      let files = 0;
      recs.forEach((r, i) => {
        if (r.charCodeAt(0) !== F) return;
        files++;
        if (match[i] === -1) this.dirty.add(pathOfRecord(r));
      });
      oldRecs.forEach((r, j) => {
        const c = r.charCodeAt(0);
        if (seen[j] || (c !== F && c !== Q)) return;
        const p = pathOfRecord(r);
        this.gone.set(p, j);
        this.dirty.add(p);
      });
      this.files = files;
    }
    for (const p of sqlite) this.dirty.add(p);
  }

  /** The records of both walks, and which of this walk's records the manifest holds (identity when identical). */
  private split(): { recs: string[]; oldRecs: string[]; match: Int32Array } {
    if (!this.walk) {
      const recs = splitRecords(this.scan);
      const match = new Int32Array(recs.length);
      if (this.identical) for (let i = 0; i < recs.length; i++) match[i] = i;
      this.walk = { recs, oldRecs: this.identical ? recs : splitRecords(this.old.records), match };
    }
    return this.walk;
  }

  private index(): Map<string, number> {
    if (!this.byPath) {
      const byPath = new Map<string, number>();
      this.split().recs.forEach((r, i) => {
        if (r.charCodeAt(0) === F) byPath.set(pathOfRecord(r), i);
      });
      this.byPath = byPath;
    }
    return this.byPath;
  }

  /** The file at `p` now (its stat), or undefined. */
  current(p: string): StatEntry | undefined {
    const i = this.index().get(p);
    return i === undefined ? undefined : parseRecord(this.split().recs[i]!);
  }

  /** What the manifest recorded at `p`, or undefined. */
  previous(p: string): FileEntry | undefined {
    const { oldRecs, match } = this.split();
    const i = this.index().get(p);
    const j = i !== undefined && match[i]! >= 0 ? match[i]! : this.gone.get(p);
    if (j === undefined) return undefined;
    const e: FileEntry = { ...parseRecord(oldRecs[j]!), sha256: shaAt(this.old.shas, j) };
    return this.sqlite.has(p) ? { ...e, sqlite: true } : e;
  }

  /** True when `p` is a file here now, as the plan sees it (for collision checks). */
  has(p: string): boolean {
    return this.index().has(p);
  }

  paths(): IterableIterator<string> {
    return this.index().keys();
  }

  /**
   * Files whose size is the manifest's but whose mtime moved beyond the window (not a ±1 h shift),
   * and the files both know (databases aside). Nearly all of them at once means a clock shift.
   */
  mtimeShift(windowMs: number): { shifted: number; known: number } {
    if (this.identical && this.dirty.size === 0) return { shifted: 0, known: this.files };
    const { recs, match } = this.split();
    let known = 0;
    match.forEach((j, i) => {
      if (j >= 0 && recs[i]!.charCodeAt(0) === F) known++;
    });
    let shifted = 0;
    for (const p of this.dirty) {
      const cur = this.current(p);
      const prev = this.previous(p);
      if (cur && match[this.index().get(p)!]! >= 0) known--; // counted above: not shifted
      if (!cur || !prev || prev.sqlite) continue;
      known++;
      if (
        prev.size === cur.size &&
        prev.mtimeMs !== cur.mtimeMs &&
        !withinWindow(prev.mtimeMs, cur.mtimeMs, windowMs)
      )
        shifted++;
    }
    return { shifted, known };
  }

  /**
   * The side's next manifest block: this walk's records in its order, with the entry `final` gives
   * for each path it names (undefined: no file there any more), the others unchanged with their
   * hashes; temp files left out; paths this walk did not see appended in path order. A file written
   * by this run is recorded with the stamp of its own stat, so the next walk prints the same bytes.
   */
  next(final: ReadonlyMap<string, FileEntry | undefined>): {
    block: SideBlock;
    count: number;
    sqlite: string[];
  } {
    const over = new Map<number, FileEntry | undefined>();
    const extra: FileEntry[] = [];
    const sqlite: string[] = [];
    for (const [p, e] of final) {
      if (e?.sqlite) sqlite.push(p);
      const i = this.index().get(p);
      if (i !== undefined) over.set(i, e);
      else if (e) extra.push(e);
    }
    extra.sort((a, b) => (a.path < b.path ? -1 : 1));
    const out: string[] = [];
    const { recs, match } = this.split();
    const shas = Buffer.alloc((recs.length + extra.length) * HASH_BYTES);
    let count = 0;
    const push = (e: FileEntry): void => {
      putSha(shas, out.length, e.sha256);
      out.push(recordOf(e));
      count++;
    };
    recs.forEach((rec, i) => {
      if (over.has(i)) {
        const e = over.get(i);
        if (e) push(e);
        return;
      }
      const c = rec.charCodeAt(0);
      const j = match[i]!;
      if (c === T || (c === F && j < 0)) return; // a changed file `final` does not name: looked at next run
      if (j >= 0) this.old.shas.copy(shas, out.length * HASH_BYTES, j * HASH_BYTES, (j + 1) * HASH_BYTES);
      out.push(rec);
      if (c === F) count++;
    });
    for (const e of extra) push(e);
    return {
      block: {
        records: Buffer.from(out.length === 0 ? "" : `${out.join("\0")}\0`, "utf8"),
        shas: shas.subarray(0, out.length * HASH_BYTES),
      },
      count,
      sqlite: sqlite.sort(),
    };
  }
}

/** How far ahead a walk is searched for the record the other one is at (files added or removed there). */
const LOOKAHEAD = 16;

/**
 * Pairs this walk's records with the manifest's identical ones (`match[i]` = the manifest's index, or
 * -1) and returns which of the manifest's were paired. Walks of an unchanged folder print in the same
 * order, so the two lists are walked side by side: a record changed in place, or a few records added
 * or removed, costs a comparison or a short look ahead, not an index of every record. What is left
 * unpaired (a folder listed in another order) is paired through an index of the leftovers only.
 */
function align(recs: readonly string[], oldRecs: readonly string[], match: Int32Array): Uint8Array {
  const seen = new Uint8Array(oldRecs.length);
  match.fill(-1);
  const n = recs.length;
  const m = oldRecs.length;
  let i = 0;
  let j = 0;
  const ahead = (list: readonly string[], from: number, p: string): number => {
    for (let d = 1; d <= LOOKAHEAD && from + d < list.length; d++)
      if (pathOfRecord(list[from + d]!) === p) return d;
    return 0;
  };
  while (i < n && j < m) {
    if (recs[i] === oldRecs[j]) {
      match[i++] = j;
      seen[j++] = 1;
      continue;
    }
    const pn = pathOfRecord(recs[i]!);
    const po = pathOfRecord(oldRecs[j]!);
    if (pn !== po) {
      const added = ahead(recs, i, po);
      if (added > 0) {
        i += added; // new records, unpaired
        continue;
      }
      const removed = ahead(oldRecs, j, pn);
      if (removed > 0) {
        j += removed; // records gone, unpaired
        continue;
      }
    }
    i++; // changed in place (or no telling): both unpaired
    j++;
  }
  const rest = new Map<string, number>();
  oldRecs.forEach((r, k) => {
    if (!seen[k]) rest.set(r, k);
  });
  if (rest.size > 0)
    recs.forEach((r, k) => {
      if (match[k] !== -1) return;
      const o = rest.get(r);
      if (o === undefined) return;
      match[k] = o;
      seen[o] = 1;
    });
  return seen;
}

export const sameBlock = (a: SideBlock, b: SideBlock): boolean =>
  a.records.equals(b.records) && a.shas.equals(b.shas);
