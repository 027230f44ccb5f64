import { z } from "zod";
import { name } from "./names.js";

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
