import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { check, envNumber, type CheckResult } from "./types.js";

export interface BackupFolder {
  name: string;
  dir: string;
  /** When the backup was taken: from its ISO-timestamp name, else the folder's mtime. */
  at: number;
}

/**
 * When a backup folder's name says it was taken: extended ISO ("2026-11-27T05:00:00.000Z"), its
 * file-name-safe forms ("2026-11-27T05-00-00.000Z") and basic ISO ("20261127T050000.000Z", as
 * replicas write it); null when the name is none of these.
 */
export function parseBackupName(name: string): number | null {
  const m =
    /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2})[-_:]?(\d{2})[-_:]?(\d{2})(?:[.,-](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      name,
    );
  if (!m) return null;
  const ms = (m[7] ?? "0").padEnd(3, "0").slice(0, 3);
  const zone = (m[8] ?? "Z").replace(/^([+-]\d{2})(\d{2})$/, "$1:$2");
  const t = Date.parse(`${m[1]!}-${m[2]!}-${m[3]!}T${m[4]!}:${m[5]!}:${m[6]!}.${ms}${zone}`);
  return Number.isFinite(t) ? t : null;
}

/** Every folder under `<state>/backups/`, oldest first. */
export function listBackups(stateDir: string): BackupFolder[] {
  const root = path.join(stateDir, "backups");
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = path.join(root, d.name);
      return { name: d.name, dir, at: parseBackupName(d.name) ?? statSync(dir).mtimeMs };
    })
    .sort((a, b) => a.at - b.at);
}

export const retentionDays = (env: NodeJS.ProcessEnv): number =>
  envNumber(env, "SYNCWARDEN_BACKUP_RETENTION_DAYS", 30);

const iso = (t: number): string => new Date(t).toISOString();

/** Oldest and newest backup; a warning when some are past retention (repair prunes them). */
export function checkBackups(stateDir: string, env: NodeJS.ProcessEnv, now: number): CheckResult {
  const backups = listBackups(stateDir);
  const days = retentionDays(env);
  if (backups.length === 0) return check("backups", "ok", "no backups", { count: 0, retentionDays: days });
  const oldest = backups[0]!;
  const newest = backups[backups.length - 1]!;
  const expired = backups.filter((b) => now - b.at > days * 86_400_000);
  const details = {
    count: backups.length,
    oldest: iso(oldest.at),
    newest: iso(newest.at),
    expired: expired.map((b) => b.name),
    retentionDays: days,
  };
  const text = `${backups.length} backups, oldest ${iso(oldest.at)}, newest ${iso(newest.at)}`;
  if (expired.length > 0)
    return check("backups", "warning", `${text}; ${expired.length} past the ${days}-day retention`, details);
  return check("backups", "ok", text, details);
}

/** Deletes backup folders past retention; returns their names. */
export function pruneBackups(stateDir: string, env: NodeJS.ProcessEnv, now: number): string[] {
  const days = retentionDays(env);
  const pruned: string[] = [];
  for (const b of listBackups(stateDir)) {
    if (now - b.at <= days * 86_400_000) continue;
    rmSync(b.dir, { recursive: true, force: true });
    pruned.push(b.name);
  }
  return pruned;
}

/** Stray `*.tmp` files left in the state folder (top level) by an interrupted write. */
export function strayTempFiles(stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  return readdirSync(stateDir, { withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(".tmp"))
    .map((d) => path.join(stateDir, d.name));
}

export function pruneTempFiles(stateDir: string): string[] {
  const files = strayTempFiles(stateDir);
  for (const f of files) rmSync(f, { force: true });
  return files.map((f) => path.basename(f));
}
