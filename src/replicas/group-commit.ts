import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, statfsSync, statSync } from "node:fs";
import type { Socket } from "node:net";
import { fsyncPath, type Durability } from "./fs-atomic.js";

// Group commits: the temp files of a batch made durable by one syncfs(2) per file system before they
// are renamed, instead of one fsync each; and the shell that runs the `sync -f` calls of a process.

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
