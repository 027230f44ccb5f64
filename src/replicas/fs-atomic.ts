import { createHash, randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import {
  closeSync,
  fstatSync,
  fsync,
  fsyncSync,
  futimesSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  writevSync,
} from "node:fs";
import path from "node:path";
import { fsyncDir, fsyncFile } from "../fsync.js";
import { TMP_PREFIX } from "./names.js";

import { mtimeMsOf, stampOf } from "./stamp.js";

/** This process's temp names: a random run id and a counter (no random bytes drawn per file). */
const RUN_ID = randomBytes(4).toString("hex");
let tempCount = 0;

export function tempPathFor(dest: string): string {
  return path.join(
    path.dirname(dest),
    `${TMP_PREFIX}${RUN_ID}-${(tempCount++).toString(36)}-${path.basename(dest)}`,
  );
}

/** Best effort: some file systems refuse to fsync a directory. */
export async function fsyncDirAsync(dir: string): Promise<void> {
  try {
    const fh = await fsp.open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // not supported here
  }
}

/** Writes buffers in order with writev (up to 1024 at a time), finishing any short write. */
function writeAll(fd: number, parts: readonly Buffer[]): void {
  for (let i = 0; i < parts.length;) {
    const batch = parts.slice(i, i + 1024);
    let done = writevSync(fd, batch);
    for (const b of batch) {
      i++;
      if (done >= b.length) {
        done -= b.length;
        continue;
      }
      for (let at = done; at < b.length;) at += writeSync(fd, b, at);
      done = 0;
    }
  }
}

/** temp file in the same folder, fsync, rename. Several buffers are written in one go, not joined first. */
export function writeAtomic(dest: string, data: string | Buffer | Buffer[]): void {
  mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  if (Array.isArray(data)) {
    const fd = openSync(tmp, "w");
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } else {
    writeFileSync(tmp, data);
    fsyncFile(tmp);
  }
  renameSync(tmp, dest);
  fsyncDir(path.dirname(dest));
}

export function sha256File(file: string): string {
  const h = createHash("sha256");
  const fd = openSync(file, "r");
  try {
    if (fstatSync(fd).size <= 1 << 20) return h.update(readFileSync(fd)).digest("hex");
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest("hex");
}

/** Runs `fn` over `items` with at most `limit` at a time; the first error is thrown after all settle. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.e;
}

/** Files up to this size are read whole (one read); larger ones are streamed through the hash. */
const WHOLE = 8 << 20;

export async function sha256FileAsync(file: string): Promise<string> {
  const h = createHash("sha256");
  const fh = await fsp.open(file, "r");
  try {
    const st = await fh.stat();
    if (st.size <= WHOLE) h.update(await fh.readFile());
    else for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return h.digest("hex");
}

/** fsync in libuv's thread pool, so several files' fsyncs overlap (and this thread keeps copying). */
export function fsyncAsync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
}

/** Copies src into fd (synchronously: small files are fastest so), hashing what it writes. */
function copyInto(src: string, fd: number, size: number): string {
  const h = createHash("sha256");
  if (size <= WHOLE) {
    const data = readFileSync(src);
    writeSync(fd, data);
    return h.update(data).digest("hex");
  }
  const input = openSync(src, "r");
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(input, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      writeSync(fd, buf, 0, n);
    }
  } finally {
    closeSync(input);
  }
  return h.digest("hex");
}

/** Folders known to exist (mkdir once per folder per run, not once per file). */
export function ensureDir(dir: string, known?: Set<string>): void {
  if (known?.has(dir)) return;
  mkdirSync(dir, { recursive: true });
  known?.add(dir);
}

export interface Copied {
  /** The source as copied (size, mtime) and the content hash of what was written. */
  size: number;
  mtimeMs: number;
  sha256: string;
  /** The destination's mtime after the copy (the source's, to the file system's precision). */
  destMtimeMs: number;
  /** The same as find's %T@ prints it (see stamp.ts). */
  destStamp: string;
}

/** How a temp file is made durable before its rename; it closes `fd` in any case. */
export type Durability = (fd: number) => Promise<void>;

/** An fsync in libuv's thread pool (so several copies' fsyncs overlap), then close. */
export const fsyncEach: Durability = async (fd) => {
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
};

/**
 * Copies a regular file atomically: into a temp file beside `dest` (hashing it on the way), mtime
 * preserved, fsynced, then renamed into place. The source is re-checked after the copy (size and
 * mtime); when it changed meanwhile the copy is redone (up to 3 times), so what lands is one whole
 * version and the hash returned is that version's. The reads and writes are synchronous and only the
 * fsync waits, so callers run several copies at once and their fsyncs overlap. The caller fsyncs
 * `dest`'s folder (once per batch).
 */
export async function copyFileAtomic(
  src: string,
  dest: string,
  o: { dirs?: Set<string>; durable?: Durability } = {},
): Promise<Copied> {
  const durable = o.durable ?? fsyncEach;
  ensureDir(path.dirname(dest), o.dirs);
  for (let attempt = 1; ; attempt++) {
    const before = statSync(src);
    const tmp = tempPathFor(dest);
    const fd = openSync(tmp, "wx");
    let sha256: string;
    let destStamp: string;
    try {
      sha256 = copyInto(src, fd, before.size);
      futimesSync(fd, before.atime, before.mtime);
      destStamp = stampOf(fstatSync(fd, { bigint: true }).mtimeNs);
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    try {
      await durable(fd); // the one wait of a copy: the source may change meanwhile
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    const after = statSync(src);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
      rmSync(tmp, { force: true });
      if (attempt < 3) continue;
      throw new Error("the source kept changing during the copy; left for the next run");
    }
    renameSync(tmp, dest);
    return {
      size: before.size,
      mtimeMs: before.mtimeMs,
      sha256,
      destMtimeMs: mtimeMsOf(destStamp),
      destStamp,
    };
  }
}
