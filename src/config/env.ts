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

/** Environment variables that override every provider's policy (names our users already use). */
export const PROVIDER_ENV: Readonly<Record<string, { path: [string, string]; kind: Kind; min: number }>> = {
  RETRY_MAX_ATTEMPTS: { path: ["retry", "max_attempts"], kind: "int", min: 1 },
  RETRY_BASE_DELAY: { path: ["retry", "base_delay"], kind: "number", min: 0 },
  RETRY_MAX_DELAY: { path: ["retry", "max_delay"], kind: "number", min: 0 },
  RETRY_EXPONENTIAL_BASE: { path: ["retry", "exponential_base"], kind: "number", min: 1 },
  CIRCUIT_BREAKER_FAILURE_THRESHOLD: { path: ["breaker", "failure_threshold"], kind: "int", min: 1 },
  CIRCUIT_BREAKER_SUCCESS_THRESHOLD: { path: ["breaker", "success_threshold"], kind: "int", min: 1 },
  CIRCUIT_BREAKER_TIMEOUT: { path: ["breaker", "timeout"], kind: "number", min: 0.001 },
  CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS: { path: ["breaker", "half_open_max_calls"], kind: "int", min: 1 },
};

export interface ProviderOverrides {
  values: { path: [string, string]; value: number }[];
  /** RETRY_JITTER: true/false, or full/decorrelated/none. */
  jitter?: "full" | "decorrelated" | "none";
  /** RESILIENCE_ENABLED=false turns retries, breakers and gates off (timeouts stay). */
  enabled: boolean;
}

export function providerOverrides(env: NodeJS.ProcessEnv): ProviderOverrides {
  const values: ProviderOverrides["values"] = [];
  for (const [envName, { path, kind, min }] of Object.entries(PROVIDER_ENV)) {
    const raw = env[envName];
    if (raw === undefined) continue;
    const value = parse(envName, raw, kind) as number;
    if (value < min)
      throw new ConfigError(
        `environment variable ${envName}=${JSON.stringify(raw)}: must be at least ${min}`,
      );
    values.push({ path, value });
  }
  const out: ProviderOverrides = { values, enabled: true };
  const jitter = env.RETRY_JITTER;
  if (jitter !== undefined) {
    if (/^(full|decorrelated|none)$/.test(jitter)) out.jitter = jitter as "full" | "decorrelated" | "none";
    else out.jitter = parse("RETRY_JITTER", jitter, "boolean") ? "full" : "none";
  }
  if (env.RESILIENCE_ENABLED !== undefined)
    out.enabled = parse("RESILIENCE_ENABLED", env.RESILIENCE_ENABLED, "boolean") as boolean;
  return out;
}
