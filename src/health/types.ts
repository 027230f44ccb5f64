/** How healthy one aspect of the state is. */
export type HealthStatus = "ok" | "warning" | "critical";

/** The outcome of one check: a status, a one-line message and details for --json. */
export interface CheckResult {
  name: string;
  status: HealthStatus;
  message: string;
  details: Record<string, unknown>;
}

/** What one repair did (or tried to do); every repair is also written to the events table. */
export interface RepairResult {
  name: string;
  ok: boolean;
  message: string;
  details: Record<string, unknown>;
}

const RANK: Record<HealthStatus, number> = { ok: 0, warning: 1, critical: 2 };

export function worst(statuses: readonly HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>((a, s) => (RANK[s] > RANK[a] ? s : a), "ok");
}

/** doctor's exit code: 0 healthy, 1 warnings, 2 critical. */
export function exitCodeFor(checks: readonly CheckResult[]): number {
  return RANK[worst(checks.map((c) => c.status))];
}

export const check = (
  name: string,
  status: HealthStatus,
  message: string,
  details: Record<string, unknown> = {},
): CheckResult => ({ name, status, message, details });

export const GB = 1024 ** 3;
export const MB = 1024 ** 2;

/** "1.2 GB", "340 MB", "12 KB" */
export function formatBytes(n: number): string {
  if (n >= GB) return `${(n / GB).toFixed(1)} GB`;
  if (n >= MB) return `${(n / MB).toFixed(1)} MB`;
  return `${Math.round(n / 1024)} KB`;
}

/** A number from the environment, or the default when unset or not a finite number. */
export function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  return Number.isFinite(n) ? n : fallback;
}
