import { ConfigError } from "../errors.js";
import { didYouMean } from "./closest-name.js";
import { MAX_TIMER_SECONDS } from "./durations.js";
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
export const PROVIDER_ENV: Readonly<
  Record<string, { path: [string, string]; kind: Kind; min: number; max?: number }>
> = {
  RETRY_MAX_ATTEMPTS: { path: ["retry", "max_attempts"], kind: "int", min: 1 },
  RETRY_BASE_DELAY: { path: ["retry", "base_delay"], kind: "number", min: 0, max: MAX_TIMER_SECONDS },
  RETRY_MAX_DELAY: { path: ["retry", "max_delay"], kind: "number", min: 0, max: MAX_TIMER_SECONDS },
  RETRY_EXPONENTIAL_BASE: { path: ["retry", "exponential_base"], kind: "number", min: 1 },
  CIRCUIT_BREAKER_FAILURE_THRESHOLD: { path: ["breaker", "failure_threshold"], kind: "int", min: 1 },
  CIRCUIT_BREAKER_SUCCESS_THRESHOLD: { path: ["breaker", "success_threshold"], kind: "int", min: 1 },
  CIRCUIT_BREAKER_TIMEOUT: {
    path: ["breaker", "timeout"],
    kind: "number",
    min: 0.001,
    max: MAX_TIMER_SECONDS,
  },
  CIRCUIT_BREAKER_HALF_OPEN_MAX_CALLS: { path: ["breaker", "half_open_max_calls"], kind: "int", min: 1 },
};

/** On/off switches of the resilience layer (the names of the background documents); all default to true. */
export const RESILIENCE_SWITCHES = {
  RESILIENCE_ENABLED: "false: one attempt, no breaker, no rate gate (timeouts stay)",
  RESILIENCE_RETRY_ENABLED: "false: one attempt per call, rate-limited calls included",
  RESILIENCE_CIRCUIT_BREAKER_ENABLED: "false: provider breakers never block a call nor record one",
} as const;

/** Prefixes whose every variable must be one we know: a misspelt name is an error, not silently ignored. */
const CHECKED_PREFIXES = /^(RESILIENCE_|CIRCUIT_BREAKER_|RETRY_)/;

/** Every variable name under the checked prefixes that syncwarden reads. */
export const KNOWN_RESILIENCE_ENV: readonly string[] = [
  ...Object.keys(RESILIENCE_SWITCHES),
  ...Object.keys(PROVIDER_ENV),
  "RETRY_JITTER",
];

/** Throws a ConfigError for a RESILIENCE_*, CIRCUIT_BREAKER_* or RETRY_* variable syncwarden does not read. */
export function checkUnknownEnv(env: NodeJS.ProcessEnv): void {
  const unknown = Object.keys(env)
    .filter((name) => CHECKED_PREFIXES.test(name) && !KNOWN_RESILIENCE_ENV.includes(name))
    .sort();
  if (unknown.length === 0) return;
  const lines = unknown.map(
    (name) =>
      `environment variable ${name} is not one syncwarden reads${didYouMean(name, KNOWN_RESILIENCE_ENV)}`,
  );
  throw new ConfigError(
    `${lines.join("\n  ")}\n  (known: ${KNOWN_RESILIENCE_ENV.join(", ")}; unset it or fix its name)`,
  );
}

export interface ProviderOverrides {
  values: { path: [string, string]; value: number }[];
  /** RETRY_JITTER: true/false, or full/decorrelated/none. */
  jitter?: "full" | "decorrelated" | "none";
  /** RESILIENCE_ENABLED=false turns retries, breakers and gates off (timeouts stay). */
  enabled: boolean;
  /** RESILIENCE_RETRY_ENABLED=false: one attempt per call. */
  retry: boolean;
  /** RESILIENCE_CIRCUIT_BREAKER_ENABLED=false: provider breakers neither block nor count calls. */
  breaker: boolean;
}

/** The provider overrides present in `env`; a ConfigError names a bad value or an unknown variable. */
export function providerOverrides(env: NodeJS.ProcessEnv): ProviderOverrides {
  checkUnknownEnv(env);
  const values: ProviderOverrides["values"] = [];
  for (const [envName, { path, kind, min, max }] of Object.entries(PROVIDER_ENV)) {
    const raw = env[envName];
    if (raw === undefined) continue;
    const value = parse(envName, raw, kind) as number;
    if (value < min)
      throw new ConfigError(
        `environment variable ${envName}=${JSON.stringify(raw)}: must be at least ${min}`,
      );
    if (max !== undefined && value > max)
      throw new ConfigError(
        `environment variable ${envName}=${JSON.stringify(raw)}: must be at most ${max} seconds (about 24.8 days, the longest a timer waits)`,
      );
    values.push({ path, value });
  }
  const out: ProviderOverrides = { values, enabled: true, retry: true, breaker: true };
  const jitter = env.RETRY_JITTER;
  if (jitter !== undefined) {
    if (/^(full|decorrelated|none)$/.test(jitter)) out.jitter = jitter as "full" | "decorrelated" | "none";
    else out.jitter = parse("RETRY_JITTER", jitter, "boolean") ? "full" : "none";
  }
  const on = (name: keyof typeof RESILIENCE_SWITCHES): boolean => {
    const raw = env[name];
    return raw === undefined || (parse(name, raw, "boolean") as boolean);
  };
  out.enabled = on("RESILIENCE_ENABLED");
  out.retry = on("RESILIENCE_RETRY_ENABLED");
  out.breaker = on("RESILIENCE_CIRCUIT_BREAKER_ENABLED");
  return out;
}
