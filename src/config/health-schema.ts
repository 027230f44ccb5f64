import { z } from "zod";

const durationText = (key: string) =>
  z.string().regex(/^\s*(\d+[smhd])+\s*$/, {
    error: (iss) =>
      `invalid ${key} ${JSON.stringify(iss.input)}; use a whole number with s, m, h or d, e.g. 30s, 5m, 2h`,
  });

/** `health:`: how often the daemon runs doctor, and the replica targets' breaker. */
export const healthSchema = z
  .strictObject({
    /** doctor's checks and safe repairs on the daemon's loop (default 5m). */
    interval: durationText("health.interval").optional(),
    replica_breaker: z
      .strictObject({
        /** Consecutive failed runs of a replica target that open its breaker (default 3). */
        failure_threshold: z.number().int().min(1).max(1000).default(3),
        /** How long it stays open before one trial run (default 60s; doubles on each re-open). */
        timeout: durationText("health.replica_breaker.timeout").default("60s"),
      })
      .prefault({}),
  })
  .prefault({});

/** The keys of the orchestrator our users ran before (seconds, as they wrote them): accepted as aliases. */
export const orchestratorSchema = z
  .strictObject({
    /** Alias of `health.interval`, in seconds. */
    resilience_check_interval: z.number().int().min(1).optional(),
    /** The schedule (every N seconds) of replica targets that have none of their own. */
    sync_interval: z.number().int().min(1).optional(),
  })
  .optional();

/** `metrics:`: the daemon's /metrics listener (loopback unless a token is set). */
export const metricsSchema = z
  .strictObject({
    port: z.number().int().min(0).max(65535),
    host: z.string().min(1).default("127.0.0.1"),
  })
  .optional();

/** `doctor:`: thresholds of doctor's checks. */
export const doctorSchema = z
  .strictObject({
    /** The ledger-size check turns critical over this many bytes (unset: no limit). */
    max_db_bytes: z.number().int().min(1).optional(),
  })
  .prefault({});
