import { z } from "zod";

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const name = (what: string) => z.string().regex(NAME, `${what} must be letters, digits, '_', '.' or '-'`);

/** The `sync:` block our users already write (names kept from their systems). */
export const syncSchema = z.strictObject({
  max_retries: z.number().int().min(0).default(3),
  retry_wait_seconds: z.number().min(0).default(60),
  rate_limit_wait_seconds: z.number().min(0).default(60),
  max_workers: z.number().int().min(1).max(256).default(4),
  pause_on_rate_limit: z.boolean().default(true),
  /** How long a claimed item stays leased without a heartbeat before another runner may take it. */
  lease_seconds: z.number().positive().default(120),
});

const globs = z.array(z.string().min(1));

export const gitSourceSchema = z.strictObject({
  type: z.literal("git"),
  repo: z.string().min(1).default("."),
  branch: z.string().min(1).default("HEAD"),
  include: globs.default(["**"]),
  exclude: globs.default([]),
  max_file_bytes: z.number().int().positive().default(1_048_576),
});

/** A user's own connector: `module` is a path (relative to the config file) whose default export is a factory. */
export const moduleConnectorSchema = z.looseObject({
  type: z.literal("module"),
  module: z.string().min(1),
});

export const sqliteDocsSinkSchema = z.strictObject({
  type: z.literal("sqlite-docs"),
  table: name("table").default("documents"),
});

export const phaseSchema = z.strictObject({
  name: name("phase name"),
  source: z.discriminatedUnion("type", [gitSourceSchema, moduleConnectorSchema]),
  enrich: z.array(moduleConnectorSchema).default([]),
  sink: z
    .discriminatedUnion("type", [sqliteDocsSinkSchema, moduleConnectorSchema])
    .prefault({ type: "sqlite-docs" }),
  /** Whether `--incremental-only` runs this phase. */
  incremental: z.boolean().default(true),
});

export const jobSchema = z
  .strictObject({
    description: z.string().optional(),
    schedule: z.strictObject({ every: z.string().optional(), cron: z.string().optional() }).optional(),
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

export const configSchema = z.strictObject({
  version: z.literal(1).optional(),
  state_dir: z.string().min(1).optional(),
  sync: syncSchema.prefault({}),
  jobs: z
    .record(name("job name"), jobSchema)
    .refine((jobs) => Object.keys(jobs).length > 0, "define at least one job"),
});

export type SyncSettings = z.infer<typeof syncSchema>;
export type GitSourceConfig = z.infer<typeof gitSourceSchema>;
export type ModuleConnectorConfig = z.infer<typeof moduleConnectorSchema>;
export type PhaseConfig = z.infer<typeof phaseSchema>;
export type JobConfig = z.infer<typeof jobSchema>;
export type ConfigFile = z.infer<typeof configSchema>;
