import { machineName } from "../config/host.js";
import path from "node:path";

// The names syncwarden gives what it writes beside the user's files.

/** Every write goes to a file with this prefix in the destination's folder, then is renamed into place. */
export const TMP_PREFIX = ".syncwarden-tmp-";

/** The file on each target that says "this is the right, mounted folder". */
export const MARKER = ".syncwarden-replica";

/** This machine's manifest of (replica, target) in the state folder. */
export function manifestPath(stateDir: string, replica: string, target: string): string {
  return path.join(stateDir, "replicas", `${replica}-${target}-${machineName()}.manifest`);
}
