// Making writes durable: the ledger's backups and the replicas' copies use the same two calls.

import { closeSync, fsyncSync, openSync } from "node:fs";

/** fsync of a file by its path. */
export function fsyncFile(file: string): void {
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
