import { createHash, randomBytes } from "node:crypto";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
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
  statfsSync,
  statSync,
  writeFileSync,
  writeSync,
  writevSync,
} from "node:fs";
import type { Socket } from "node:net";
import path from "node:path";
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

export function fsyncPath(file: string): void {
  const fd = openSync(file, "r+");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Best effort: some file systems refuse to fsync a directory. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
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
    fsyncPath(tmp);
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

/**
 * How a temp file's data is made durable before it is renamed into place: fsync it, or wait for a
 * group commit. It closes `fd` in any case. `root` names the file system (a replica root or the state
 * folder).
 */
export type Durability = (fd: number, root: string, file: string) => Promise<void>;

export const fsyncEach: Durability = async (fd) => {
  try {
    await fsyncAsync(fd);
  } finally {
    closeSync(fd);
  }
};

/** File systems whose syncfs(2) writes back every file's data: ext2/3/4, XFS, Btrfs, F2FS; tmpfs has nothing to write. */
const SYNCFS_FLUSHES_ALL = new Set([0xef53, 0x58465342, 0x9123683e, 0xf2f52010, 0x01021994]);

/**
 * True when one `sync -f ROOT` (syncfs) can stand in for an fsync of every file written under root:
 * Linux, a local file system from the list above, and coreutils' sync with -f. Elsewhere (FUSE cloud
 * drives, network shares, FAT, macOS) every temp file is fsynced on its own.
 */
export function canGroupCommit(root: string): boolean {
  if (process.platform !== "linux") return false;
  try {
    if (!SYNCFS_FLUSHES_ALL.has(statfsSync(root).type)) return false;
  } catch {
    return false;
  }
  // whether `sync -f` works is found out by the shell that runs it (see Syncer): no process started here
  return syncer.usable;
}

/** The roots on distinct file systems (by device): one syncfs covers all the roots on one. */
export function distinctFileSystems(roots: Iterable<string>): string[] {
  const byDevice = new Map<number, string>();
  for (const r of roots) {
    const dev = statSync(r, { throwIfNoEntry: false })?.dev ?? -byDevice.size - 1;
    if (!byDevice.has(dev)) byDevice.set(dev, r);
  }
  return [...byDevice.values()];
}

/** syncfs(2) on root's file system, through coreutils' `sync -f` started for this call; throws when it fails. */
function syncFsOnce(root: string): void {
  const r = spawnSync("sync", ["-f", root], { stdio: ["ignore", "ignore", "pipe"] });
  const failed =
    r.error ??
    (r.status === 0 ? undefined : new Error(r.stderr.toString().trim() || `exit ${String(r.status)}`));
  if (failed) throw new Error(`sync -f ${root} failed: ${failed.message}`);
}

/**
 * First says whether this `sync` has -f (`ok` or `no`, asked of --help, so probing flushes nothing), then
 * reads a folder per line, runs `sync -f` on it, answers `0`, or `1 <its error on one line>`.
 */
const SYNCER = `if sync --help 2>/dev/null | grep -q -- --file-system; then echo ok; else echo no; exit 0; fi; while IFS= read -r d; do if m=$(sync -f "$d" 2>&1); then echo 0; else echo "1 $(printf %s "$m" | tr '\\n' ' ')"; fi; done`;

/**
 * The syncfs calls of this process, run by one `sh` kept for as long as it is needed. Starting a
 * process from Node takes this thread longer the larger the process is (tens of milliseconds once the
 * manifests are loaded), about as long as a syncfs itself, and a first sync makes one per batch. The
 * shell does not keep this process alive: its pipes are held only while a call waits. Where it cannot
 * start, or for a folder whose name holds a line break, each call starts its own `sync -f`.
 */
class Syncer {
  private child: ChildProcess | undefined;
  private broken = false;
  /** Until the shell says otherwise (then group commits give way to an fsync per file). */
  usable = true;
  private greeted = false;
  private waiting: { root: string; resolve: () => void; reject: (e: Error) => void }[] = [];
  private partial = "";

  syncfs(root: string): Promise<void> {
    if (!this.usable) return Promise.reject(new NoSyncfs());
    if (this.broken || root.includes("\n")) return Promise.resolve().then(() => syncFsOnce(root));
    const child = (this.child ??= this.start());
    if (this.waiting.length === 0) this.hold(child, true);
    return new Promise((resolve, reject) => {
      this.waiting.push({ root, resolve, reject });
      child.stdin!.write(`${root}\n`);
    });
  }

  private start(): ChildProcess {
    const child = spawn("sh", ["-c", SYNCER], { stdio: ["pipe", "pipe", "ignore"] });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      const lines = (this.partial + text).split("\n");
      this.partial = lines.pop()!;
      for (const line of lines) {
        if (!this.greeted) {
          this.greeted = true;
          if (line === "ok") continue;
          this.usable = false;
          for (const w of this.waiting.splice(0)) w.reject(new NoSyncfs());
          break;
        }
        const w = this.waiting.shift();
        if (!w) continue;
        if (line === "0") w.resolve();
        else w.reject(new Error(`sync -f ${w.root} failed: ${line.slice(2).trim() || line}`));
      }
      if (this.waiting.length === 0) this.hold(child, false);
    });
    const gone = (e?: Error): void => {
      if (this.child !== child) return;
      this.child = undefined;
      if (e) this.broken = true; // no sh: each call starts its own sync from now on
      for (const w of this.waiting.splice(0))
        w.reject(new Error(`sync -f ${w.root} failed: ${e?.message ?? "the shell running it exited"}`));
    };
    child.on("error", gone);
    child.on("exit", () => gone());
    child.stdin.on("error", () => undefined); // reported through "exit"
    return child;
  }

  /** Holds the event loop while a call waits, not otherwise. */
  private hold(child: ChildProcess, on: boolean): void {
    for (const h of [child, child.stdin as unknown as Socket, child.stdout as unknown as Socket])
      if (on) h.ref();
      else h.unref();
  }
}

const syncer = new Syncer();

/** This machine's `sync` has no -f: each file or folder is fsynced on its own instead. */
export class NoSyncfs extends Error {
  constructor() {
    super("sync -f is not available here");
  }
}

/** syncfs(2) on root's file system (see Syncer); rejects when it fails. */
export function syncFs(root: string): Promise<void> {
  return syncer.syncfs(root);
}

/**
 * Group commit: the copies in flight each write their temp file, then wait here; once they all wait
 * (the next turn of the event loop), one syncfs per file system writes them all back, and each goes
 * on to its rename. Thousands of small files cost a few syncfs calls instead of one fsync each.
 */
export class GroupCommit {
  private waiting = new Map<string, { resolve: () => void; reject: (e: unknown) => void; file: string }[]>();
  private scheduled = false;

  /** Closes the file first: a syncfs while the files are still open was measured several times slower. */
  readonly durable: Durability = (fd, root, file) =>
    new Promise((resolve, reject) => {
      closeSync(fd);
      const list = this.waiting.get(root) ?? [];
      list.push({ resolve, reject, file });
      this.waiting.set(root, list);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });

  /**
   * Every copy in flight waits here while the syncfs runs (file creation in the same file system waits
   * on the journal while a syncfs runs, so overlapping the next copies with it is slower than letting
   * it run alone).
   */
  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.waiting;
    this.waiting = new Map();
    let failed: unknown;
    try {
      for (const root of distinctFileSystems(batch.keys())) await syncFs(root);
    } catch (e) {
      if (e instanceof NoSyncfs)
        try {
          for (const w of [...batch.values()].flat()) fsyncPath(w.file);
        } catch (f) {
          failed = f;
        }
      else failed = e; // the whole batch fails (its temp files are removed; the next run copies them again)
    }
    for (const w of [...batch.values()].flat()) {
      if (failed === undefined) w.resolve();
      else w.reject(failed);
    }
  }
}

/**
 * Copies a regular file atomically: into a temp file beside `dest` (hashing it on the way), mtime
 * preserved, made durable (`durable`: fsync, or a group commit), then renamed into place. The source
 * is re-checked after the copy (size and mtime); when it changed meanwhile the copy is redone (up to 3
 * times), so what lands is one whole version and the hash returned is that version's. The reads and
 * writes are synchronous and only the durability step waits, so callers run several copies at once.
 * The caller fsyncs `dest`'s folder (once per batch).
 */
export async function copyFileAtomic(
  src: string,
  dest: string,
  o: { dirs?: Set<string>; durable?: Durability; root?: string } = {},
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
      await durable(fd, o.root ?? path.dirname(dest), tmp); // closes fd
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
    // synchronous on purpose: the copies of a batch go on to their next file in the same turn of the
    // event loop, so they all wait for the next group commit together (an await here split batches)
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
