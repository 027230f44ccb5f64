import { z } from "zod";

// Input and output schemas of the MCP tools. Output objects are loose: they name the fields a client
// relies on and let the service add more without breaking a client that validates them. Each tool's
// tools/list entry stays under ~2,000 characters (test/mcp.test.ts), so the rest (a run's `error`,
// a phase's `skipped` and `pending`, ...) is documented by the SyncResult type, not repeated here.

const jobName = z.string().min(1).describe("job name (see list_jobs)");

/** The longest a tool waits for a run before answering: under the 60 s default request timeout of MCP clients. */
export const MAX_WAIT_SECONDS = 50;

export const syncDataInput = {
  job: jobName,
  ids: z.array(z.string()).min(1).optional().describe("only these item keys (scoped)"),
  since: z.string().min(1).optional().describe("only what changed since this value (scoped)"),
  force: z.boolean().optional().describe("reprocess every item, ignoring fingerprints"),
  wait: z
    .boolean()
    .default(false)
    .describe("wait up to wait_seconds for the result (else: return the run id at once)"),
  wait_seconds: z
    .number()
    .min(0)
    .max(MAX_WAIT_SECONDS)
    .default(MAX_WAIT_SECONDS)
    .describe("with wait: how long"),
  lock_wait_seconds: z
    .number()
    .min(0)
    .max(3600)
    .default(0)
    .describe("seconds to wait for another runner of the job; 0 fails at once"),
};

const phaseResult = z.looseObject({
  name: z.string(),
  completed: z.number(),
  dead: z.number(),
  checkpoint: z.string().nullable(),
});

/** A run: started (or waiting for its lock, or still running) with its id, or ended with its SyncResult. */
export const syncResultOutput = z.looseObject({
  runId: z.string(),
  job: z.string(),
  status: z
    .enum(["started", "waiting", "running", "completed", "partial", "failed", "cancelled", "skipped"])
    .describe("started, waiting, running: see sync_status {run_id}"),
  degradation: z.string().optional(),
  phases: z.array(phaseResult).optional(),
});

export const syncStatusInput = {
  job: jobName.optional(),
  run_id: z.string().min(1).optional().describe("a run's id: its state, progress and result"),
};

/** With run_id, also `run`: { runId, job, state: waiting | running | ended, progress, result } (documented here, not in tools/list: its size). */
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

export const cancelSyncInput = {
  run_id: z.string().min(1).optional().describe("the run to cancel"),
  job: jobName.optional().describe("or: the job whose run (started by this server) to cancel"),
};

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

// --- the operator's tools: what the CLI gives a person ---

export const searchInput = {
  query: z.string().min(1).describe("words that must all match (full text, bm25-ranked)"),
  job: jobName.optional().describe("only this job's documents"),
  limit: z.number().int().min(1).max(100).default(10),
  semantic: z.boolean().optional().describe("rank by embedding similarity (needs an openai-embeddings step)"),
  hybrid: z
    .boolean()
    .optional()
    .describe(
      "fuse bm25 and embedding nearest neighbours by reciprocal rank (needs an openai-embeddings step)",
    ),
};

export const searchOutput = z.looseObject({
  hits: z.array(
    z.looseObject({
      job: z.string(),
      key: z.string(),
      score: z.number(),
      snippet: z.string(),
      path: z.string().optional().describe("the file of a document cut by lines"),
      line: z.number().int().optional().describe("first line of the best-matching chunk"),
      endLine: z.number().int().optional().describe("its last line"),
      symbol: z.string().optional().describe("the function, class or method it defines"),
      language: z.string().optional(),
    }),
  ),
  note: z.string().optional().describe("why nothing could be searched"),
  warnings: z
    .array(z.string())
    .optional()
    .describe("e.g. the vector index is unavailable, so a linear scan ran"),
});

export const historyInput = {
  job: jobName.optional(),
  limit: z.number().int().min(1).max(200).default(20),
};

export const historyOutput = z.looseObject({
  runs: z.array(
    z.looseObject({
      runId: z.string(),
      job: z.string(),
      trigger: z.string(),
      status: z.string().nullable().describe("null while running (or a run killed before it ended)"),
      startedAt: z.string(),
      finishedAt: z.string().nullable(),
    }),
  ),
});

export const failedItemsInput = {
  job: jobName.optional(),
  limit: z.number().int().min(1).max(1000).default(100),
};

export const failedItemsOutput = z.looseObject({
  items: z.array(
    z.looseObject({
      job: z.string(),
      phase: z.string(),
      key: z.string(),
      status: z.string(),
      attempts: z.number(),
      errorClass: z.string().nullable(),
      error: z.string().nullable(),
    }),
  ),
  total: z.number().describe("how many there are (items lists at most limit)"),
});

export const doctorInput = {
  repair: z.boolean().optional().describe("make the repairs too (overdue syncs are reported, not started)"),
  thorough: z.boolean().optional().describe("a full integrity check instead of the quick one"),
};

export const doctorOutput = z.looseObject({
  checks: z.array(z.looseObject({ name: z.string(), status: z.string(), message: z.string() })),
  repairs: z.array(z.looseObject({ name: z.string(), ok: z.boolean(), message: z.string() })),
  exitCode: z.number().describe("0 healthy, 1 warnings, 2 critical"),
});

const breakerRow = z.looseObject({
  kind: z.enum(["provider", "target"]),
  name: z.string().describe("what reset_breaker and isolate_breaker take"),
  breaker: z.looseObject({ state: z.string(), isolated: z.boolean(), openUntil: z.string().nullable() }),
});

export const listBreakersOutput = z.looseObject({ breakers: z.array(breakerRow) });

export const breakerInput = {
  name: z.string().min(1).describe("a provider, or a replica target as replica:<replica>:<target>"),
};

export const breakerOutput = z.looseObject({ name: z.string(), breaker: breakerRow.shape.breaker });

const targetReport = z.looseObject({
  replica: z.string(),
  target: z.string(),
  status: z.string(),
  copied: z.number(),
  deleted: z.number(),
});

export const replicaStatusInput = {
  id: z.string().min(1).optional().describe("one replication (as replicate returned it)"),
};

export const replicaStatusOutput = z.looseObject({
  targets: z.array(
    z.looseObject({
      name: z.string(),
      path: z.string(),
      direction: z.string(),
      lastSuccess: z.string().nullable(),
      breaker: z.looseObject({ state: z.string() }),
    }),
  ),
  replications: z.array(
    z.looseObject({
      id: z.string(),
      state: z.enum(["waiting", "running", "ended"]),
      targets: z.array(targetReport).nullable(),
    }),
  ),
});

export const replicateInput = {
  replica: z.string().min(1).optional().describe("only this replica (default: all)"),
  target: z.string().min(1).optional().describe("only this target of it"),
  direction: z.enum(["push", "pull", "bidirectional"]).optional(),
  conflict: z.enum(["newest", "local", "remote", "manual"]).optional(),
  dry_run: z.boolean().optional().describe("report what would change, change nothing"),
  force: z.boolean().optional().describe("past the mass-deletion and clock-shift guards"),
  wait: z.boolean().default(false).describe("wait up to wait_seconds for the reports"),
  wait_seconds: z.number().min(0).max(MAX_WAIT_SECONDS).default(MAX_WAIT_SECONDS),
};

export const replicateOutput = z.looseObject({
  id: z.string().describe("follow it with replica_status {id}"),
  state: z.enum(["running", "ended"]),
  targets: z.array(targetReport).nullable(),
});
