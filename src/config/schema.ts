import { z } from "zod";
import { seconds } from "./durations.js";
import { replicasSchema } from "./replicas-schema.js";
import { name } from "./names.js";
import { parseDuration } from "./schedule.js";
import { scheduleSchema } from "./schedule-schema.js";
import { codebaseSchema, processingSchema } from "./codebases.js";
import { alertsSchema } from "./alerts-schema.js";
import { doctorSchema, healthSchema, metricsSchema, orchestratorSchema } from "./health-schema.js";
import { memorySinkSchema, postgresDocsSinkSchema, sqliteDocsSinkSchema } from "./sinks-schema.js";
import {
  githubSourceSchema,
  gitSourceSchema,
  httpJsonSourceSchema,
  moduleConnectorSchema,
  sessionsSourceSchema,
} from "./sources-schema.js";
import { embeddingsEnrichSchema, llmExtractSchema, moduleEnrichSchema } from "./steps-schema.js";
import { providerSchema } from "./provider-schema.js";

/** The `sync:` block our users already write (names kept from their systems). */
export const syncSchema = z.strictObject({
  max_retries: z.number().int().min(0).default(3),
  retry_wait_seconds: seconds(0).default(60),
  rate_limit_wait_seconds: seconds(0).default(60),
  max_workers: z.number().int().min(1).max(256).default(4),
  pause_on_rate_limit: z.boolean().default(true),
  /** How long a claimed item stays leased without a heartbeat before another runner may take it. */
  lease_seconds: seconds(1).default(120),
  /** DEAD items parked at least this long (30m, 1h, 7d) go back to PENDING at the start of a run; unset: never. */
  redrive_dead_after: z
    .string()
    .refine((s) => parseDuration(s) !== null, {
      error: (iss) =>
        `invalid duration ${JSON.stringify(iss.input)}; use a whole number with s, m, h or d, e.g. 30m, 1h, 7d`,
    })
    .optional(),
});

export const phaseSchema = z
  .strictObject({
    name: name("phase name"),
    source: z.discriminatedUnion("type", [
      gitSourceSchema,
      githubSourceSchema,
      httpJsonSourceSchema,
      sessionsSourceSchema,
      moduleConnectorSchema,
    ]),
    enrich: z
      .array(z.discriminatedUnion("type", [embeddingsEnrichSchema, llmExtractSchema, moduleEnrichSchema]))
      .default([]),
    sink: z
      .discriminatedUnion("type", [
        sqliteDocsSinkSchema,
        postgresDocsSinkSchema,
        memorySinkSchema,
        moduleConnectorSchema,
      ])
      .prefault({ type: "sqlite-docs" }),
    /** Whether `--incremental-only` runs this phase. */
    incremental: z.boolean().default(true),
  })
  .transform((p) => {
    const sink = p.sink.type === "module" ? p.sink : { type: p.sink.type, table: p.sink.table ?? p.name };
    return { ...p, sink };
  });

export const jobSchema = z
  .strictObject({
    description: z.string().optional(),
    schedule: scheduleSchema.optional(),
    phases: z.array(phaseSchema).min(1, "a job needs at least one phase"),
  })
  .superRefine((job, ctx) => {
    const seen = new Set<string>();
    job.phases.forEach((p, i) => {
      if (seen.has(p.name))
        ctx.addIssue({
          code: "custom",
          message: `duplicate phase name "${p.name}"`,
          path: ["phases", i, "name"],
        });
      seen.add(p.name);
    });
  });

const ledgerSchema = z.strictObject({
  /** postgres://user:password@host:port/database; `${VAR}` is read from the environment. */
  url: z.string().regex(/^(postgres(ql)?:\/\/|\$\{)/, {
    error: "must be a postgres:// URL (or ${VAR} naming one)",
  }),
  schema: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, {
      error: "must be a plain PostgreSQL name: lower-case letters, digits and _, at most 63",
    })
    .default("syncwarden"),
  pool_size: z.number().int().min(1).max(100).default(10),
});

export const configSchema = z
  .strictObject({
    version: z.literal(1).optional(),
    state_dir: z.string().min(1).optional(),
    /** A shared PostgreSQL ledger instead of the embedded SQLite one (src/ledger/postgres). */
    ledger: ledgerSchema.optional(),
    sync: syncSchema.prefault({}),
    providers: z.record(name("provider name"), providerSchema).default({}),
    jobs: z.record(name("job name"), jobSchema).default({}),
    /** Folders kept in step with other folders (src/replicas). */
    replicas: replicasSchema,
    /** The code indexer's repositories, as its users write them: each becomes a job (config/codebases.ts). */
    codebases: z.array(codebaseSchema).default([]),
    processing: processingSchema.prefault({}),
    /** The daemon's doctor loop and the replica breaker (config/health.ts applies the aliases). */
    health: healthSchema,
    /** Aliases our users' orchestrator configs carry: resilience_check_interval, sync_interval (seconds). */
    orchestrator: orchestratorSchema,
    /** The daemon's Prometheus listener. */
    metrics: metricsSchema,
    doctor: doctorSchema,
    /** Webhooks told when something needs a person (service/alert-service.ts). */
    alerts: alertsSchema,
  })
  .refine(
    (c) => Object.keys(c.jobs).length > 0 || Object.keys(c.replicas).length > 0 || c.codebases.length > 0,
    { error: "define at least one job (or a codebase, or a replica)", path: ["jobs"] },
  )
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.codebases.forEach((b, i) => {
      if (b.name in c.jobs || seen.has(b.name))
        ctx.addIssue({
          code: "custom",
          message: `codebase name "${b.name}" is already ${seen.has(b.name) ? "a codebase" : "a job"}: each codebase becomes a job of that name`,
          path: ["codebases", i, "name"],
        });
      seen.add(b.name);
    });
  });

export type SyncSettings = z.infer<typeof syncSchema>;
export type PhaseConfig = z.infer<typeof phaseSchema>;
export type JobConfig = z.infer<typeof jobSchema>;
export type ConfigFile = z.infer<typeof configSchema>;

/**
 * The collection of a sink that writes the ledger's own document store (sqlite-docs, postgres-docs,
 * memory: committed with the item's completion; `search` reads it).
 */
export function ledgerDocsTable(sink: PhaseConfig["sink"]): string | undefined {
  return sink.type === "module" ? undefined : sink.table;
}
