import { existsSync, readFileSync } from "node:fs";
import { machineName } from "../config/host.js";
import { writeAtomic } from "./fs-atomic.js";
import { manifestPath } from "./names.js";
import { parseRecord, pathOfRecord, splitRecords } from "./scan.js";

/** What one side held for a path after the last sync. */
export interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
  /** The mtime as find's `%T@` prints it, when known exactly (see stamp.ts). */
  stamp?: string;
  /** Content sha256, or for an SQLite database its logical fingerprint. */
  sha256: string;
  sqlite?: true;
}

export type Side = "local" | "remote";

/**
 * One side of a manifest: the records of the walk that confirmed it (see RawScan), one 32-byte content
 * hash per record (zeros: none, e.g. a symlink), where each record starts (`offs`, one more entry
 * than records: the end), and the file records' indices in path order (`byPath`, for lookups). Kept as
 * bytes: the next walk is compared to `records` as a whole, and only records that differ are parsed.
 */
export interface SideBlock {
  readonly records: Buffer;
  readonly shas: Buffer;
  offs: Int32Array;
  byPath: Int32Array;
  /** The records and hashes as pieces, when the block was assembled from them (written as they are). */
  parts?: { records: Buffer[]; shas: Buffer[]; recordBytes: number; shaBytes: number };
}

/** The manifest's first line. */
export interface ManifestHeader {
  version: 3;
  replica: string;
  target: string;
  host: string;
  updatedAt: string;
  /** Files per side. */
  counts: Record<Side, number>;
  /** Per side, the paths that are SQLite databases (looked at on every run: a stat cannot vouch for them). */
  sqlite: Record<Side, string[]>;
  /**
   * Per side, the byte lengths of its records, hashes, offsets and path index (the last two as
   * little-endian 32-bit integers), in this order after the header: local, then remote.
   */
  bytes: Record<Side, [number, number, number, number]>;
}

export interface LoadedManifest {
  header: ManifestHeader;
  local: SideBlock;
  remote: SideBlock;
}

export const HASH_BYTES = 32;
const ZERO_HEX = "0".repeat(2 * HASH_BYTES);
export const EMPTY_BLOCK: SideBlock = {
  records: Buffer.alloc(0),
  shas: Buffer.alloc(0),
  offs: new Int32Array(1),
  byPath: new Int32Array(0),
};

const F = 102; // "f"
const Q = 63; // "?"

/** A block from its records and hashes: the offsets and the path index computed (a full parse; for records not from a run). */
export function blockOf(records: Buffer, shas: Buffer): SideBlock {
  const recs = splitRecords(records);
  const offs = new Int32Array(recs.length + 1);
  let at = 0;
  const files: [string, number][] = [];
  recs.forEach((r, i) => {
    offs[i] = at;
    at += Buffer.byteLength(r, "utf8") + 1;
    const c = r.charCodeAt(0);
    if (c === F || c === Q) files.push([pathOfRecord(r), i]);
  });
  offs[recs.length] = at;
  files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { records, shas, offs, byPath: Int32Array.from(files, (f) => f[1]) };
}

const int32Bytes = (a: Int32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Copies little-endian 32-bit integers out of a buffer (which need not be aligned). */
function int32s(b: Buffer): Int32Array {
  const out = new Int32Array(b.length / 4);
  int32Bytes(out).set(b);
  return out;
}

/** The hash of record `i`: hex, or "" for none. */
export function shaAt(shas: Buffer, i: number): string {
  const hex = shas.toString("hex", i * HASH_BYTES, (i + 1) * HASH_BYTES);
  return hex === ZERO_HEX ? "" : hex;
}

/** Writes a hex hash (or zeros for anything else) as record `i`'s. */
export function putSha(shas: Buffer, i: number, hex: string): void {
  if (hex.length === 2 * HASH_BYTES) shas.write(hex, i * HASH_BYTES, HASH_BYTES, "hex");
  else shas.fill(0, i * HASH_BYTES, (i + 1) * HASH_BYTES);
}

/** This machine's manifest for (replica, target), or undefined before the first sync. */
export function readManifest(stateDir: string, replica: string, target: string): LoadedManifest | undefined {
  const file = manifestPath(stateDir, replica, target);
  return existsSync(file) ? parseManifest(file, readFileSync(file)) : undefined;
}

const sizes = (b: SideBlock): [number, number, number, number] => [
  b.parts ? b.parts.recordBytes : b.records.length,
  b.parts ? b.parts.shaBytes : b.shas.length,
  b.offs.byteLength,
  b.byPath.byteLength,
];

/** A side's bytes in the file's order: records, hashes, offsets, path index. */
const sideBytes = (b: SideBlock): Buffer[] => [
  ...(b.parts ? b.parts.records : [b.records]),
  ...(b.parts ? b.parts.shas : [b.shas]),
  int32Bytes(b.offs),
  int32Bytes(b.byPath),
];

function parseManifest(file: string, data: Buffer): LoadedManifest {
  const nl = data.indexOf(10);
  const header = JSON.parse(data.toString("utf8", 0, nl === -1 ? data.length : nl)) as
    ManifestHeader | { version?: unknown };
  if (header.version !== 3 || nl === -1)
    throw new Error(`${file}: unknown manifest version ${String(header.version)}`);
  const h = header as ManifestHeader;
  let at = nl + 1;
  const take = (n: number): Buffer => {
    const b = data.subarray(at, at + n);
    if (b.length !== n) throw new Error(`${file}: truncated manifest; delete it to start over`);
    at += n;
    return b;
  };
  const side = ([r, s, o, p]: [number, number, number, number]): SideBlock => {
    const block = { records: take(r), shas: take(s), offs: int32s(take(o)), byPath: int32s(take(p)) };
    const n = block.offs.length - 1;
    if (n < 0 || block.offs[n] !== r || block.shas.length !== n * HASH_BYTES || block.byPath.length > n)
      throw new Error(`${file}: inconsistent manifest; delete it to start over`);
    return block;
  };
  const local = side(h.bytes.local);
  const remote = side(h.bytes.remote);
  return { header: h, local, remote };
}

/** Written atomically (temp file in the same folder, fsync, rename). */
export function writeManifest(
  stateDir: string,
  m: {
    replica: string;
    target: string;
    local: SideBlock;
    remote: SideBlock;
    counts: Record<Side, number>;
    sqlite: Record<Side, string[]>;
  },
): void {
  const header: ManifestHeader = {
    version: 3,
    replica: m.replica,
    target: m.target,
    host: machineName(),
    updatedAt: new Date().toISOString(),
    counts: m.counts,
    sqlite: m.sqlite,
    bytes: { local: sizes(m.local), remote: sizes(m.remote) },
  };
  writeAtomic(manifestPath(stateDir, m.replica, m.target), [
    Buffer.from(`${JSON.stringify(header)}\n`, "utf8"),
    ...[m.local, m.remote].flatMap(sideBytes),
  ]);
}

/** A side's files as entries (for tools and tests; a run never parses them all). */
export function entriesOf(block: SideBlock, sqlite: readonly string[] = []): FileEntry[] {
  const dbs = new Set(sqlite);
  const out: FileEntry[] = [];
  splitRecords(block.records).forEach((rec, i) => {
    const c = rec.charCodeAt(0);
    if (c !== 102 /* f */ && c !== 63 /* ? */) return;
    const e: FileEntry = { ...parseRecord(rec), sha256: shaAt(block.shas, i) };
    out.push(dbs.has(e.path) ? { ...e, sqlite: true } : e);
  });
  return out;
}
