import { z } from "zod";

// Input and output schemas of the MCP tools. Output objects are loose: they name the fields a client
// relies on and let the service add more without breaking a client that validates them. Each tool's
// tools/list entry stays under ~2,000 characters (test/mcp.test.ts), so the rest (a run's `error`,
// a phase's `skipped` and `pending`, ...) is documented by the SyncResult type, not repeated here.

const jobName = z.string().min(1).describe("job name (see list_jobs)");

export const syncDataInput = {
  job: jobName,
  ids: z
    .array(z.string())
    .min(1)
    .optional()
    .describe("only these item keys (scoped: the main checkpoint does not move)"),
  since: z
    .string()
    .min(1)
    .optional()
    .describe("only what changed since this value, e.g. an ISO date (scoped)"),
  force: z.boolean().optional().describe("reprocess every item, ignoring fingerprints"),
  wait_seconds: z
    .number()
    .min(0)
    .max(3600)
    .default(0)
    .describe("seconds to wait for another runner of the job; 0 fails at once"),
};

export const syncResultOutput = z.looseObject({
  runId: z.string(),
  job: z.string(),
  status: z.enum(["completed", "partial", "failed", "cancelled", "skipped"]),
  degradation: z.enum(["full", "partial", "raw_only", "none"]),
  durationSeconds: z.number(),
  phasesCompleted: z.number(),
  phases: z.array(
    z.looseObject({
      name: z.string(),
      total: z.number(),
      completed: z.number(),
      failed: z.number(),
      dead: z.number(),
      checkpoint: z.string().nullable(),
    }),
  ),
  warnings: z.array(z.string()),
});

export const syncStatusInput = { job: jobName.optional() };

export const syncStatusOutput = z.looseObject({
  jobs: z.array(
    z.looseObject({
      job: z.string(),
      lastSuccess: z.string().nullable(),
      documents: z.number(),
      debts: z.number(),
      running: z.looseObject({ phase: z.string(), total: z.number(), percent: z.number() }).nullable(),
      nextRun: z.string().nullable(),
      phases: z.array(z.looseObject({ name: z.string(), checkpoint: z.string().nullable() })),
    }),
  ),
  providers: z.array(z.looseObject({ provider: z.string(), breaker: z.looseObject({ state: z.string() }) })),
  replicas: z.array(z.looseObject({ name: z.string(), breaker: z.looseObject({ state: z.string() }) })),
});

export const retryFailedInput = {
  job: jobName.optional().describe("only this job (default: all)"),
  include_dead: z.boolean().optional().describe("requeue DEAD items too, with a fresh attempt budget"),
  pay_debts: z.boolean().optional().describe("also run owed enrichment steps now"),
};

export const retryFailedOutput = z.looseObject({
  requeued: z.number(),
  debts: z
    .array(
      z.looseObject({
        job: z.string(),
        paid: z.number(),
        remaining: z.number(),
        stillDown: z.array(z.string()),
      }),
    )
    .optional(),
});

export const listJobsOutput = z.looseObject({
  jobs: z.array(
    z.looseObject({
      name: z.string(),
      description: z.string().nullable(),
      phases: z.array(z.string()),
      schedule: z.looseObject({ every: z.string().optional(), cron: z.string().optional() }).nullable(),
    }),
  ),
});
