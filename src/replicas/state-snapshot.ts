import { statSync } from "node:fs";
import { machineName } from "../config/host.js";
import path from "node:path";

import { SNAPSHOT_DIR } from "./targets.js";

export { SNAPSHOT_DIR };

/** A snapshot younger than this is kept as it is: frequent runs don't copy a large ledger each time. */
export const SNAPSHOT_MAX_AGE_MS = 3_600_000;

/** `<target>/.syncwarden-snapshots/state-<host>.db`: this machine's latest state snapshot on a target. */
export function stateSnapshotPath(targetRoot: string, host: string = machineName()): string {
  return path.join(targetRoot, SNAPSHOT_DIR, `state-${host}.db`);
}

/** True when the snapshot is missing, or its mtime is an hour or more from now (either way: a clock jump too). */
export function snapshotDue(file: string, now: number): boolean {
  const st = statSync(file, { throwIfNoEntry: false });
  return st === undefined || Math.abs(now - st.mtimeMs) >= SNAPSHOT_MAX_AGE_MS;
}
