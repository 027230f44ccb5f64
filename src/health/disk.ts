import { existsSync, statfsSync } from "node:fs";
import path from "node:path";
import { check, envNumber, formatBytes, GB, type CheckResult } from "./types.js";

/** Free space on the volume holding the state folder; thresholds from env (GB). */
export function checkDisk(stateDir: string, env: NodeJS.ProcessEnv): CheckResult {
  const warnGb = envNumber(env, "SYNCWARDEN_DOCTOR_DISK_WARN_GB", 10);
  const critGb = envNumber(env, "SYNCWARDEN_DOCTOR_DISK_CRIT_GB", 5);
  // the state folder may not exist yet: measure its nearest existing parent
  let dir = path.resolve(stateDir);
  while (!existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const s = statfsSync(dir);
  const free = s.bavail * s.bsize;
  const details = { path: dir, freeBytes: free, totalBytes: s.blocks * s.bsize, warnGb, critGb };
  const text = `${formatBytes(free)} free on the state volume (${dir})`;
  if (free < critGb * GB) return check("disk", "critical", `${text}; under ${critGb} GB`, details);
  if (free < warnGb * GB) return check("disk", "warning", `${text}; under ${warnGb} GB`, details);
  return check("disk", "ok", text, details);
}
