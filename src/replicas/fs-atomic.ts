import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  copyFileSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";

/** Every write goes to a file with this prefix in the destination's folder, then is renamed into place. */
export const TMP_PREFIX = ".syncwarden-tmp-";

export function tempPathFor(dest: string): string {
  return path.join(
    path.dirname(dest),
    `${TMP_PREFIX}${randomBytes(4).toString("hex")}-${path.basename(dest)}`,
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

/** temp file in the same folder, fsync, rename. */
export function writeAtomic(dest: string, data: string | Buffer): void {
  mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = tempPathFor(dest);
  writeFileSync(tmp, data);
  fsyncPath(tmp);
  renameSync(tmp, dest);
  fsyncDir(path.dirname(dest));
}

export function sha256File(file: string): string {
  const h = createHash("sha256");
  const fd = openSync(file, "r");
  try {
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

/**
 * Copies a regular file atomically, preserving its mtime. The source is re-checked after the copy
 * (size and mtime); when it changed meanwhile the copy is redone (up to 3 times). Returns the hash
 * of what was copied: `knownHash` when the source still matched `known`, else the temp file's hash.
 */
export function copyFileAtomic(
  src: string,
  dest: string,
  known: { size: number; mtimeMs: number; sha256: string },
): { size: number; mtimeMs: number; sha256: string } {
  mkdirSync(path.dirname(dest), { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const before = statSync(src);
    const tmp = tempPathFor(dest);
    copyFileSync(src, tmp);
    utimesSync(tmp, before.atime, before.mtime);
    fsyncPath(tmp);
    const after = statSync(src);
    const stable = after.size === before.size && after.mtimeMs === before.mtimeMs;
    if (!stable) {
      rmSync(tmp, { force: true });
      if (attempt < 3) continue;
      throw new Error("the source kept changing during the copy; left for the next run");
    }
    const sameAsScan = before.size === known.size && before.mtimeMs === known.mtimeMs;
    const sha256 = sameAsScan ? known.sha256 : sha256File(tmp);
    renameSync(tmp, dest);
    fsyncDir(path.dirname(dest));
    return { size: before.size, mtimeMs: before.mtimeMs, sha256 };
  }
}
