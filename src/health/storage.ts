import { existsSync, statSync } from "node:fs";
import type Database from "better-sqlite3";
import { check, envNumber, formatBytes, MB, type CheckResult } from "./types.js";

/** Above this share of free pages, --repair runs VACUUM. */
export const VACUUM_FREE_RATIO = 0.3;

const sizeOf = (file: string): number => (existsSync(file) ? statSync(file).size : 0);

export interface StorageFacts {
  dbBytes: number;
  walBytes: number;
  pageCount: number;
  freePages: number;
  freeRatio: number;
}

export function storageFacts(db: Database.Database, file: string): StorageFacts {
  const pageCount = db.pragma("page_count", { simple: true }) as number;
  const freePages = db.pragma("freelist_count", { simple: true }) as number;
  return {
    dbBytes: sizeOf(file),
    walBytes: sizeOf(`${file}-wal`),
    pageCount,
    freePages,
    freeRatio: pageCount === 0 ? 0 : freePages / pageCount,
  };
}

/** Database and WAL size and the free-page ratio: a warning when VACUUM or a checkpoint would help. */
export function checkStorage(db: Database.Database, file: string, env: NodeJS.ProcessEnv): CheckResult {
  const f = storageFacts(db, file);
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

/** wal_checkpoint(TRUNCATE), PRAGMA optimize and, when the free-page ratio is high, VACUUM. */
export function compact(
  db: Database.Database,
  file: string,
): { message: string; details: StorageFacts & { vacuumed: boolean; before: StorageFacts } } {
  const before = storageFacts(db, file);
  const vacuumed = before.freeRatio > VACUUM_FREE_RATIO;
  if (vacuumed) db.exec("VACUUM");
  db.pragma("optimize");
  db.pragma("wal_checkpoint(TRUNCATE)");
  const after = storageFacts(db, file);
  const message = `${vacuumed ? `VACUUM (free pages ${before.freePages} → ${after.freePages}), ` : ""}PRAGMA optimize, wal_checkpoint(TRUNCATE) (WAL ${formatBytes(before.walBytes)} → ${formatBytes(after.walBytes)})`;
  return { message, details: { ...after, vacuumed, before } };
}
