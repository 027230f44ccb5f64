import { blockOf, HASH_BYTES, putSha, shaAt, type FileEntry, type SideBlock } from "./manifest.js";
import { parseRecord, pathOfRecord, recordOf, withinWindow, type StatEntry } from "./scan.js";
import { lastAtMost, pairWalks, type Loose, type Run } from "./walk-pairing.js";

const F = 102; // "f": a regular file's record
const Q = 63; // "?": a file recorded without a walk's stamp (always looked at again)
const T = 84; // "T": one of our temp files (removed by the walk)

/**
 * One side of a run: this walk's records beside the manifest's. A record is the file's type, size,
 * mtime and path as the walk prints them, so a file whose record is byte-identical to the manifest's is
 * unchanged since the last sync and needs no look at all. The two buffers are compared natively
 * (common prefixes by doubling steps and binary search), so the work is in proportion to what changed,
 * not to the tree: only the records that differ are decoded, and the paths whose records differ (and
 * the databases, which a stat cannot vouch for) are the ones hashed and reconciled. Paths are found
 * in the manifest through its path index, in the walk through the runs of unchanged records.
 */
export class SideDelta {
  /** This walk printed exactly the manifest's records. */
  readonly identical: boolean;
  /** Paths whose record is new or gone (added, changed, deleted), and the databases. */
  readonly dirty = new Set<string>();
  /** Regular files this walk saw. */
  readonly files: number;
  private readonly runs: Run[];
  private runsByFrom?: Run[];
  private readonly loose: Loose[];
  /** The walk's file records the manifest lacks at their place, by path. */
  private readonly looseByPath = new Map<string, Loose>();
  /** The manifest's records this walk did not print (none elsewhere either). */
  private readonly removed: Set<number>;
  /** The manifest's file records this walk did not print, by path. */
  private readonly gone = new Map<string, number>();

  /** `count`: the manifest's count of files on this side. */
  constructor(
    private readonly scan: Buffer,
    private readonly old: SideBlock,
    private readonly sqlite: ReadonlySet<string>,
    count: number,
  ) {
    this.identical = scan.equals(old.records);
    const n = old.offs.length - 1;
    if (this.identical) {
      this.runs = n > 0 ? [{ at: 0, from: 0, count: n }] : [];
      this.loose = [];
      this.removed = new Set();
      this.files = count;
    } else {
      ({ runs: this.runs, loose: this.loose, removed: this.removed } = pairWalks(scan, old));
      // the manifest's files, less those gone, plus those new (a record paired elsewhere is neither)
      let files = count;
      for (const l of this.loose) {
        if (l.rec.charCodeAt(0) !== F) continue;
        this.looseByPath.set(l.path, l);
        if (l.was !== undefined) continue;
        files++;
        this.dirty.add(l.path);
      }
      for (const j of this.removed) {
        const c = this.typeOf(j);
        if (c !== F && c !== Q) continue;
        files--;
        const p = pathOfRecord(this.oldRec(j));
        this.gone.set(p, j);
        this.dirty.add(p);
      }
      this.files = files;
    }
    for (const p of sqlite) this.dirty.add(p);
  }

  private typeOf(j: number): number {
    return this.old.records[this.old.offs[j]!]!;
  }

  private oldRec(j: number): string {
    return this.old.records.toString("utf8", this.old.offs[j], this.old.offs[j + 1]! - 1);
  }

  /** The manifest's file record at `p` (through its path index), or undefined. */
  private find(p: string): number | undefined {
    const idx = this.old.byPath;
    let lo = 0;
    let hi = idx.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const j = idx[mid]!;
      const q = pathOfRecord(this.oldRec(j));
      if (q === p) return j;
      if (q < p) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /**
   * The manifest's record at `p` that this walk printed unchanged, or undefined. Callers look in
   * `looseByPath` first: a record the walk printed elsewhere (paired by `was`) is found there.
   */
  private kept(p: string): number | undefined {
    const j = this.find(p);
    return j !== undefined && !this.removed.has(j) && this.typeOf(j) === F ? j : undefined;
  }

  /** The file at `p` now (its stat), or undefined. */
  current(p: string): StatEntry | undefined {
    const l = this.looseByPath.get(p);
    if (l) return parseRecord(l.rec);
    const j = this.kept(p);
    return j === undefined ? undefined : parseRecord(this.oldRec(j));
  }

  /** What the manifest recorded at `p`, or undefined. */
  previous(p: string): FileEntry | undefined {
    const j = this.gone.get(p) ?? this.looseByPath.get(p)?.was ?? this.find(p);
    if (j === undefined) return undefined;
    const e: FileEntry = { ...parseRecord(this.oldRec(j)), sha256: shaAt(this.old.shas, j) };
    return this.sqlite.has(p) ? { ...e, sqlite: true } : e;
  }

  /** True when `p` is a file here now, as the plan sees it (for collision checks). */
  has(p: string): boolean {
    return this.looseByPath.has(p) || this.kept(p) !== undefined;
  }

  /** Every file here now (a full decode: only for collision checks of new names). */
  *paths(): IterableIterator<string> {
    for (const run of this.runs)
      for (let j = run.from; j < run.from + run.count; j++)
        if (this.typeOf(j) === F) yield pathOfRecord(this.oldRec(j));
    yield* this.looseByPath.keys();
  }

  /**
   * Files whose size is the manifest's but whose mtime moved beyond the window (not a ±1 h shift),
   * and the files both know (databases aside). Nearly all of them at once means a clock shift.
   */
  mtimeShift(windowMs: number): { shifted: number; known: number } {
    let known = this.files;
    let shifted = 0;
    for (const p of this.dirty) {
      const cur = this.current(p);
      if (!cur) continue;
      known--; // counted as unchanged above; judged here
      const prev = this.previous(p);
      if (!prev || prev.sqlite) continue;
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

  /** Where the record of file `p` starts in this walk, or undefined. */
  position(p: string): number | undefined {
    const l = this.looseByPath.get(p);
    if (l) return l.at;
    const j = this.kept(p);
    if (j === undefined) return undefined;
    // the run holding j
    this.runsByFrom ??= [...this.runs].sort((a, b) => a.from - b.from);
    const runs = this.runsByFrom;
    let lo = 0;
    let hi = runs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (runs[mid]!.from <= j) lo = mid;
      else hi = mid - 1;
    }
    const run = runs[lo]!;
    return run.at + this.old.offs[j]! - this.old.offs[run.from]!;
  }

  /**
   * The side's next manifest block: this walk's records in its order, with the entry `final` gives
   * for each path it names (undefined: no file there any more), the others unchanged with their
   * hashes; temp files left out; paths this walk did not see appended in the order `order` gives (the
   * other side's walk: on the same file system a folder lists the same names in the same order), then
   * in path order. A file written by this run is recorded with the stamp of its own stat, so the next
   * walk prints the same bytes.
   * Unchanged stretches are copied as whole buffers; the path index is kept as it was when no record
   * came or went, else rebuilt.
   */
  next(
    final: ReadonlyMap<string, FileEntry | undefined>,
    order: (p: string) => number | undefined = () => undefined,
  ): {
    block: SideBlock;
    count: number;
    sqlite: string[];
  } {
    const over = new Map<number, FileEntry | undefined>();
    const extra: FileEntry[] = [];
    const sqlite: string[] = [];
    for (const [p, e] of final) {
      if (e?.sqlite) sqlite.push(p);
      const at = this.position(p);
      if (at !== undefined) over.set(at, e);
      else if (e) extra.push(e);
    }
    const rank = new Map(extra.map((e) => [e.path, order(e.path) ?? Infinity]));
    extra.sort((a, b) => rank.get(a.path)! - rank.get(b.path)! || (a.path < b.path ? -1 : 1));
    const { offs, shas: oldShas, records } = this.old;
    const recParts: Buffer[] = [];
    const shaParts: Buffer[] = [];
    const starts: number[] = [];
    let pos = 0;
    let count = 0;
    // the path index still holds when record k of the next block has the path of the manifest's record k
    let sameShape = extra.length === 0;
    let k = 0;
    const emit = (e: FileEntry): void => {
      const rec = Buffer.from(`${recordOf(e)}\0`, "utf8");
      const sha = Buffer.alloc(HASH_BYTES);
      putSha(sha, 0, e.sha256);
      starts.push(pos);
      recParts.push(rec);
      shaParts.push(sha);
      pos += rec.length;
      count++;
    };
    /** Manifest records [a, b) as they are. */
    const copy = (a: number, b: number): void => {
      if (a >= b) return;
      const base = offs[a]!;
      for (let j = a; j < b; j++) {
        starts.push(pos + offs[j]! - base);
        const c = records[offs[j]!]!;
        if (c === F || c === Q) count++;
      }
      recParts.push(records.subarray(base, offs[b]));
      shaParts.push(oldShas.subarray(a * HASH_BYTES, b * HASH_BYTES));
      pos += offs[b]! - base;
    };
    const overAt = [...over.keys()].sort((a, b) => a - b);
    let o = 0;
    const pieces: (Run | Loose)[] = [...this.runs, ...this.loose].sort((a, b) => a.at - b.at);
    for (const piece of pieces) {
      if ("count" in piece) {
        if (piece.from !== k) sameShape = false;
        k = piece.from + piece.count;
        const endAt = piece.at + offs[piece.from + piece.count]! - offs[piece.from]!;
        let j = piece.from;
        while (o < overAt.length && overAt[o]! < endAt) {
          const at = overAt[o++]!;
          const r = lastAtMost(offs, offs[piece.from]! + at - piece.at, piece.from, piece.from + piece.count);
          copy(j, r);
          const e = over.get(at);
          if (e) emit(e);
          else sameShape = false;
          j = r + 1;
        }
        copy(j, piece.from + piece.count);
        continue;
      }
      const c = piece.rec.charCodeAt(0);
      if (piece.replaces !== k++) sameShape = false;
      if (over.has(piece.at)) {
        while (o < overAt.length && overAt[o]! <= piece.at) o++;
        const e = over.get(piece.at);
        if (e) emit(e);
        else sameShape = false;
        continue;
      }
      if (c === T || (c === F && piece.was === undefined)) {
        sameShape = false;
        continue; // a temp file, or a changed file `final` does not name: looked at next run
      }
      const rec = Buffer.from(`${piece.rec}\0`, "utf8");
      const sha = Buffer.alloc(HASH_BYTES);
      if (piece.was !== undefined) oldShas.copy(sha, 0, piece.was * HASH_BYTES, (piece.was + 1) * HASH_BYTES);
      starts.push(pos);
      recParts.push(rec);
      shaParts.push(sha);
      pos += rec.length;
      if (c === F) count++;
    }
    for (const e of extra) emit(e);
    starts.push(pos);
    const block: SideBlock =
      sameShape && k === offs.length - 1 && starts.length === offs.length
        ? partsBlock(recParts, pos, shaParts, Int32Array.from(starts), this.old.byPath)
        : blockOf(Buffer.concat(recParts, pos), Buffer.concat(shaParts));
    return { block, count, sqlite: sqlite.sort() };
  }
}

/**
 * A block kept as the pieces it was assembled from (unchanged stretches of the manifest's buffers and
 * the new records): writing it needs no copy into new buffers, which are made only if read.
 */
function partsBlock(
  records: Buffer[],
  recordBytes: number,
  shas: Buffer[],
  offs: Int32Array,
  byPath: Int32Array,
): SideBlock {
  let r: Buffer | undefined;
  let h: Buffer | undefined;
  return {
    get records() {
      return (r ??= Buffer.concat(records, recordBytes));
    },
    get shas() {
      return (h ??= Buffer.concat(shas));
    },
    offs,
    byPath,
    parts: { records, shas, recordBytes, shaBytes: (offs.length - 1) * HASH_BYTES },
  };
}

export const sameBlock = (a: SideBlock, b: SideBlock): boolean =>
  a.records.equals(b.records) && a.shas.equals(b.shas);
