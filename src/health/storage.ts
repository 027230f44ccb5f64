import { VACUUM_FREE_RATIO, type StorageFacts } from "../ledger/maintenance-store.js";
import { check, envNumber, formatBytes, MB, type CheckResult } from "./types.js";

/** Database and WAL size and the free-page ratio: a warning when compaction or a checkpoint would help. */
export function checkStorage(f: StorageFacts, env: NodeJS.ProcessEnv): CheckResult {
  const walWarnMb = envNumber(env, "SYNCWARDEN_DOCTOR_WAL_WARN_MB", 256);
  const pct = Math.round(f.freeRatio * 100);
  const text = `database ${formatBytes(f.dbBytes)}, WAL ${formatBytes(f.walBytes)}, ${pct}% free pages (${f.freePages}/${f.pageCount})`;
  const details = { ...f, walWarnMb, vacuumFreeRatio: VACUUM_FREE_RATIO };
  const problems: string[] = [];
  if (f.freeRatio > VACUUM_FREE_RATIO) problems.push("VACUUM would reclaim space (doctor --repair)");
  if (f.walBytes > walWarnMb * MB) problems.push("the WAL is large (doctor --repair checkpoints it)");
  if (problems.length > 0)
    return check("database-size", "warning", `${text}; ${problems.join("; ")}`, details);
  return check("database-size", "ok", text, details);
}
