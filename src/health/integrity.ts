import { existsSync } from "node:fs";
import Database from "better-sqlite3";
import { errorMessage } from "../errors.js";
import { check, type CheckResult } from "./types.js";

/** The problems `PRAGMA quick_check` (or integrity_check) reports; [] when the database is sound. */
export function integrityProblems(db: Database.Database, thorough: boolean): string[] {
  const pragma = thorough ? "integrity_check" : "quick_check";
  const rows = db.pragma(`${pragma}(20)`) as Record<string, unknown>[];
  const messages = rows.map((r) => String(Object.values(r)[0]));
  return messages.length === 1 && messages[0] === "ok" ? [] : messages;
}

/**
 * Opens a database file read-only (no migrations, no writes) and checks it. Any failure to open or
 * read it counts as corruption.
 */
export function verifyDatabaseFile(file: string, thorough: boolean): { ok: boolean; problems: string[] } {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    const problems = integrityProblems(db, thorough);
    return { ok: problems.length === 0, problems };
  } catch (e) {
    return { ok: false, problems: [errorMessage(e)] };
  } finally {
    try {
      db?.close();
    } catch {
      // a failed close of a damaged file changes nothing
    }
  }
}

/** The state database's integrity: critical when it fails the check or cannot be opened. */
export function checkIntegrity(file: string, thorough: boolean): CheckResult {
  const name = "database-integrity";
  const pragma = thorough ? "integrity_check" : "quick_check";
  if (!existsSync(file)) return check(name, "ok", `no state database yet (${file})`, { file, exists: false });
  const { ok, problems } = verifyDatabaseFile(file, thorough);
  if (ok) return check(name, "ok", `${pragma} passed`, { file, pragma });
  return check(name, "critical", `${pragma} failed: ${problems[0] ?? "unknown problem"}`, {
    file,
    pragma,
    problems,
  });
}
