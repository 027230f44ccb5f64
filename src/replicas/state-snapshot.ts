import { hostname } from "node:os";
import path from "node:path";

/**
 * When a replica's folder is the state folder, the live `state.db` is never reconciled (each machine
 * has its own ledger); instead a verified snapshot of it is pushed to each target, under this folder,
 * one file per machine. doctor --repair restores from the newest of these and of `backups/`.
 */
export const SNAPSHOT_DIR = ".syncwarden-snapshots";

/** `<target>/.syncwarden-snapshots/state-<host>.db`: this machine's latest state snapshot on a target. */
export function stateSnapshotPath(targetRoot: string, host: string = hostname()): string {
  return path.join(targetRoot, SNAPSHOT_DIR, `state-${host}.db`);
}
