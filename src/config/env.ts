import { ConfigError } from "../errors.js";
import type { SyncSettings } from "./schema.js";

type Kind = "int" | "number" | "boolean";

/** Environment variables that override the `sync:` block. */
export const SYNC_ENV: Readonly<Record<string, { key: keyof SyncSettings; kind: Kind }>> = {
  SYNC_MAX_RETRIES: { key: "max_retries", kind: "int" },
  SYNC_RETRY_WAIT_SECONDS: { key: "retry_wait_seconds", kind: "number" },
  SYNC_RATE_LIMIT_WAIT_SECONDS: { key: "rate_limit_wait_seconds", kind: "number" },
  SYNC_MAX_WORKERS: { key: "max_workers", kind: "int" },
  SYNC_PAUSE_ON_RATE_LIMIT: { key: "pause_on_rate_limit", kind: "boolean" },
  SYNC_LEASE_SECONDS: { key: "lease_seconds", kind: "number" },
};

function parse(name: string, raw: string, kind: Kind): number | boolean {
  if (kind === "boolean") {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`environment variable ${name}=${JSON.stringify(raw)}: expected true or false`);
  }
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n) || (kind === "int" && !Number.isInteger(n))) {
    throw new ConfigError(
      `environment variable ${name}=${JSON.stringify(raw)}: expected ${kind === "int" ? "an integer" : "a number"}`,
    );
  }
  return n;
}

/** The overrides present in `env`, keyed by `sync:` key, with the variable each came from. */
export function syncOverrides(
  env: NodeJS.ProcessEnv,
): Map<keyof SyncSettings, { value: number | boolean; from: string }> {
  const out = new Map<keyof SyncSettings, { value: number | boolean; from: string }>();
  for (const [envName, { key, kind }] of Object.entries(SYNC_ENV)) {
    const raw = env[envName];
    if (raw !== undefined) out.set(key, { value: parse(envName, raw, kind), from: envName });
  }
  return out;
}
