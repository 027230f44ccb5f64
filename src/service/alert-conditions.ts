import type { AlertKind } from "../config/alerts-schema.js";
import type { LoadedConfig } from "../config/load-config.js";
import { parseDuration } from "../config/schedule.js";
import { overdueJobs } from "../health/overdue.js";
import type { CheckResult } from "../health/types.js";
import type { Ledger } from "../ledger/ledger.js";
import { WEBHOOK_PROVIDER_PREFIX } from "./alert-webhook.js";

/** Something that needs a person, while it lasts; `id` is stable (kind and its job, provider, replica or check). */
export interface Condition {
  id: string;
  kind: AlertKind;
  summary: string;
  details: Record<string, unknown>;
}

const condition = (kind: AlertKind, subject: string, summary: string, details: Record<string, unknown>) => ({
  id: `${kind}:${subject}`,
  kind,
  summary,
  details,
});

/** The conditions the ledger shows now: breakers, last runs, dead items, overdue jobs, the ledger's size. */
export async function ledgerConditions(
  loaded: LoadedConfig,
  ledger: Ledger,
  now: number,
): Promise<Condition[]> {
  const { alerts, jobs, doctor } = loaded.config;
  const out: Condition[] = [];
  const stuckMs = parseDuration(alerts.stuck_open_after) ?? 15 * 60_000;
  for (const b of await ledger.resilience.listBreakers()) {
    // a webhook's own breaker is not told through webhooks (its failed deliveries are in the events table)
    if (b.state !== "open" || b.provider.startsWith(WEBHOOK_PROVIDER_PREFIX)) continue;
    const details = { provider: b.provider, reason: b.reason, openedAt: b.openedAt, isolated: b.isolated };
    out.push(
      condition(
        "breaker_open",
        b.provider,
        `circuit breaker ${b.provider} is open (${b.reason ?? "no reason"})`,
        details,
      ),
    );
    if (b.openedAt !== null && now - b.openedAt >= stuckMs)
      out.push(
        condition(
          "breaker_stuck_open",
          b.provider,
          `circuit breaker ${b.provider} has been open since ${new Date(b.openedAt).toISOString()}`,
          details,
        ),
      );
  }
  for (const job of Object.keys(jobs)) {
    // the newest finished run: one still running says nothing yet (it must not resolve, then re-fire, the alert)
    const run = (await ledger.runs.list(job, 10)).find((r) => r.finishedAt !== null);
    if (run?.status === "failed" || run?.status === "partial")
      out.push(
        condition(
          run.status === "failed" ? "run_failed" : "run_partial",
          job,
          `the last run of ${job} was ${run.status}`,
          {
            job,
            runId: run.id,
            finishedAt: run.finishedAt,
          },
        ),
      );
  }
  const dead = await ledger.plans.countByJob("DEAD");
  for (const [job, n] of Object.entries(dead))
    if (n >= alerts.dead_items_threshold)
      out.push(
        condition(
          "dead_items",
          job,
          `${job} has ${n} dead items (threshold ${alerts.dead_items_threshold})`,
          {
            job,
            dead: n,
            threshold: alerts.dead_items_threshold,
          },
        ),
      );
  for (const o of await overdueJobs(ledger.meta, jobs, now))
    if (o.overdueSince !== null)
      out.push(
        condition("job_overdue", o.job, `${o.job} is overdue: last success ${o.lastSuccess}`, { ...o }),
      );
  if (doctor.max_db_bytes !== undefined && ledger.maintenance.exists()) {
    const size = await ledger.maintenance.size();
    const bytes = size.dbBytes + size.walBytes;
    if (bytes > doctor.max_db_bytes)
      out.push(
        condition(
          "ledger_size",
          "ledger",
          `the ledger is ${bytes} bytes, over doctor.max_db_bytes (${doctor.max_db_bytes})`,
          {
            bytes,
            maxBytes: doctor.max_db_bytes,
          },
        ),
      );
  }
  return out;
}

/** doctor's critical checks as conditions. */
export const doctorConditions = (checks: readonly CheckResult[]): Condition[] =>
  checks
    .filter((c) => c.status === "critical")
    .map((c) =>
      condition("doctor_critical", c.name, `doctor: ${c.name} is critical: ${c.message}`, { check: c.name }),
    );

/** A replica target's run that met conflicts (null: its last run met none). */
export const replicaCondition = (replica: string, target: string, conflicts: number): Condition | null =>
  conflicts === 0
    ? null
    : condition(
        "replica_conflict",
        `${replica}:${target}`,
        `replica ${replica} → ${target}: ${conflicts} conflicts`,
        {
          replica,
          target,
          conflicts,
        },
      );
