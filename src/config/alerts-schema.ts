import { z } from "zod";
import { seconds } from "./durations.js";
import { name } from "./names.js";
import { breakerSchema, rateSchema, retrySchema } from "./provider-schema.js";

/** What can fire an alert (each has a stable id: the kind and its job, provider, replica or check). */
export const ALERT_KINDS = [
  "breaker_open",
  "breaker_stuck_open",
  "run_failed",
  "run_partial",
  "dead_items",
  "doctor_critical",
  "job_overdue",
  "replica_conflict",
  "ledger_size",
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

const webhookSchema = z.strictObject({
  name: name("webhook name"),
  url: z.url(),
  /** Sent with every delivery; values may use ${ENV_VAR} (never logged, never in a payload). */
  headers: z.record(z.string(), z.string()).default({}),
  /** The kinds this webhook is told about (default: all). */
  events: z.array(z.enum(ALERT_KINDS)).default([...ALERT_KINDS]),
  /** Retries of one delivery (a failed delivery stays pending and is tried again at the next check). */
  retry: retrySchema({
    max_attempts: 3,
    base_delay: 0.2,
    max_delay: 2,
    exponential_base: 2,
    jitter: "full",
    budget: 60,
  }),
  /** The webhook's own breaker, shared by every process on the ledger. */
  breaker: breakerSchema({
    failure_threshold: 5,
    success_threshold: 1,
    timeout: 1,
    max_timeout: 60,
    half_open_max_calls: 1,
  }),
  /** Deliveries at most `requests` every `per_seconds`, across processes (default: unpaced). */
  rate: rateSchema.optional(),
  /** One delivery's timeout. */
  timeout: seconds(0, true).default(10),
});

/** `alerts:`: webhooks told when something needs a person, once while it lasts and once when it clears. */
export const alertsSchema = z
  .strictObject({
    webhooks: z.array(webhookSchema).default([]),
    /** dead_items fires when a job has at least this many dead items. */
    dead_items_threshold: z.number().int().min(1).default(1),
    /** breaker_stuck_open fires when a breaker has been open this long. */
    stuck_open_after: z
      .string()
      .regex(/^\s*(\d+[smhd])+\s*$/, { error: "use a whole number with s, m, h or d, e.g. 15m" })
      .default("15m"),
  })
  .prefault({})
  .superRefine((a, ctx) => {
    const seen = new Set<string>();
    a.webhooks.forEach((w, i) => {
      if (seen.has(w.name))
        ctx.addIssue({
          code: "custom",
          message: `webhook name "${w.name}" is used twice`,
          path: ["webhooks", i, "name"],
        });
      seen.add(w.name);
    });
  });

export type AlertsConfig = z.infer<typeof alertsSchema>;
export type WebhookConfig = AlertsConfig["webhooks"][number];
