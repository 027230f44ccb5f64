import type { ConfigFile } from "./schema.js";
import { ConfigError } from "../errors.js";
import { parseDuration } from "./schedule.js";

/** The daemon's health loop and the replica breaker, with the `orchestrator.*` aliases applied. */
export interface HealthSettings {
  /** How often the daemon runs doctor. */
  intervalMs: number;
  replicaBreaker: { failureThreshold: number; timeoutMs: number };
  /** `orchestrator.sync_interval`: the schedule of replica targets without one (ms). */
  replicaEveryMs?: number;
}

export const DEFAULT_HEALTH_INTERVAL_MS = 5 * 60_000;

/** Reads `health:` and its aliases; both a key and its alias set is an error naming both. */
export function healthSettings(
  config: Pick<ConfigFile, "health" | "orchestrator">,
  file = "config",
): HealthSettings {
  const { health, orchestrator } = config;
  const alias = orchestrator?.resilience_check_interval;
  if (health.interval !== undefined && alias !== undefined)
    throw new ConfigError(
      `${file}: health.interval and orchestrator.resilience_check_interval (its alias) are both set; keep one`,
    );
  const intervalMs =
    health.interval !== undefined
      ? (parseDuration(health.interval) ?? DEFAULT_HEALTH_INTERVAL_MS)
      : alias !== undefined
        ? alias * 1000
        : DEFAULT_HEALTH_INTERVAL_MS;
  return {
    intervalMs,
    replicaBreaker: {
      failureThreshold: health.replica_breaker.failure_threshold,
      timeoutMs: parseDuration(health.replica_breaker.timeout) ?? 60_000,
    },
    ...(orchestrator?.sync_interval === undefined
      ? {}
      : { replicaEveryMs: orchestrator.sync_interval * 1000 }),
  };
}
