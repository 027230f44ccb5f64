import { z } from "zod";
import { seconds } from "./durations.js";

type Jitter = "full" | "decorrelated" | "none" | boolean;
export interface RetryDefaults {
  max_attempts: number;
  base_delay: number;
  max_delay: number;
  exponential_base: number;
  jitter: Jitter;
  budget: number;
}
export interface BreakerDefaults {
  failure_threshold: number;
  success_threshold: number;
  timeout: number;
  max_timeout: number;
  half_open_max_calls: number;
}

/** A provider's retries when `providers:` says nothing. */
export const PROVIDER_RETRY: RetryDefaults = {
  max_attempts: 3,
  base_delay: 1,
  max_delay: 60,
  exponential_base: 2,
  jitter: "full",
  budget: 300,
};
/** A provider's breaker when `providers:` says nothing. */
export const PROVIDER_BREAKER: BreakerDefaults = {
  failure_threshold: 5,
  success_threshold: 2,
  timeout: 60,
  max_timeout: 600,
  half_open_max_calls: 1,
};

/** `retry:` of a provider (or of anything else calling out through the resilience layer), over its own defaults. */
export const retrySchema = (d: RetryDefaults) =>
  z
    .strictObject({
      max_attempts: z.number().int().min(1).default(d.max_attempts),
      base_delay: seconds(0).default(d.base_delay),
      max_delay: seconds(0).default(d.max_delay),
      exponential_base: z.number().min(1).default(d.exponential_base),
      jitter: z.union([z.enum(["full", "decorrelated", "none"]), z.boolean()]).default(d.jitter),
      budget: seconds(0, true).default(d.budget),
    })
    .prefault({});

/** `breaker:` of a provider (or of anything else calling out through the resilience layer), over its own defaults. */
export const breakerSchema = (d: BreakerDefaults) =>
  z
    .strictObject({
      failure_threshold: z.number().int().min(1).default(d.failure_threshold),
      success_threshold: z.number().int().min(1).default(d.success_threshold),
      timeout: seconds(0, true).default(d.timeout),
      max_timeout: seconds(0, true).default(d.max_timeout),
      half_open_max_calls: z.number().int().min(1).default(d.half_open_max_calls),
      failure_rate: z
        .strictObject({
          threshold: z.number().gt(0).max(1),
          window: seconds(0, true),
          min_calls: z.number().int().min(1).default(10),
        })
        .optional(),
    })
    .prefault({});

/** A shared token bucket: `requests` every `per_seconds`, across processes. */
export const rateSchema = z.strictObject({
  requests: z.number().positive(),
  per_seconds: seconds(0, true),
  burst: z.number().min(1).default(1),
});

/** One remote's resilience policy, shared by every call to it and by every process. */
export const providerSchema = z.strictObject({
  base_url: z.url().optional(),
  /** Sent with every request; values may use ${ENV_VAR}. Never logged. */
  headers: z.record(z.string(), z.string()).default({}),
  /** Sent as `Authorization: Bearer …` (OpenAI-compatible providers); usually "${OPENAI_API_KEY}". Never logged. */
  api_key: z.string().min(1).optional(),
  retry: retrySchema(PROVIDER_RETRY),
  breaker: breakerSchema(PROVIDER_BREAKER),
  rate: rateSchema.optional(),
  /**
   * Per-minute limits to pace by, across processes (LLM providers); without them, the limits an answer's
   * x-ratelimit-limit-requests / -tokens headers report are used once known.
   */
  limits: z
    .strictObject({
      requests_per_minute: z.number().positive().optional(),
      tokens_per_minute: z.number().positive().optional(),
    })
    .optional(),
  timeout: seconds(0, true).default(30),
  concurrency: z.number().int().min(1).max(1024).default(8),
  /** HTTP status → error class overrides, e.g. { "404": transient }. */
  classify: z
    .record(
      z
        .string()
        .regex(/^\d{3}$/, { error: (i) => `HTTP status ${JSON.stringify(i.input)} must be 3 digits` }),
      z.enum(["transient", "rate_limited", "unavailable", "permanent", "config"]),
    )
    .default({}),
});

export type ProviderConfig = z.infer<typeof providerSchema>;
