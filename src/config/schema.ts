import { z } from "zod";
import { seconds } from "./durations.js";
import { replicasSchema } from "./replicas-schema.js";
import { name } from "./names.js";
import { parseDuration } from "./schedule.js";
import { scheduleSchema } from "./schedule-schema.js";
import { codebaseSchema, processingSchema } from "./codebases.js";
import { GITHUB_REPO } from "./github-repo.js";
import { strictSchemaProblem } from "./strict-json-schema.js";

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

const globs = z.array(z.string().min(1));

export const gitSourceSchema = z.strictObject({
  type: z.literal("git"),
  repo: z.string().min(1).default("."),
  branch: z.string().min(1).default("HEAD"),
  include: globs.default(["**"]),
  exclude: globs.default([]),
  max_file_bytes: z.number().int().positive().default(1_048_576),
});

/** Files of a GitHub repository read through the REST API (no clone); item key = path, version = blob sha. */
export const githubSourceSchema = z
  .strictObject({
    type: z.literal("github"),
    repo: z.string().regex(GITHUB_REPO, {
      error: (i) =>
        `repository ${JSON.stringify(i.input)} must be owner/name or https://github.com/owner/name[.git]`,
    }),
    /** A branch, tag or commit; default: the repository's default branch. `branch` is the same option. */
    ref: z.string().min(1).optional(),
    branch: z.string().min(1).optional(),
    /** Usually "${GITHUB_TOKEN}"; without one, anonymous access (60 requests an hour). Never logged or stored. */
    token: z.string().optional(),
    /** GitHub Enterprise Server: https://HOST/api/v3. */
    base_url: z.url().default("https://api.github.com"),
    include: globs.default(["**"]),
    exclude: globs.default([]),
    max_file_bytes: z.number().int().positive().default(1_048_576),
    /** Requests in flight at once per token, across every process on the state folder. */
    concurrency: z.number().int().min(1).max(64).default(4),
    /** The share of a token's hourly limit left unused: the shared gate closes until the reset when only this much remains. */
    rate_limit_reserve: z.number().min(0).max(0.5).default(0.05),
    /** Requests a minute per token, across processes: GitHub's secondary limit allows 900 points a minute, a GET costing 1. */
    points_per_minute: z.number().int().positive().default(900),
  })
  .refine((s) => s.ref === undefined || s.branch === undefined || s.ref === s.branch, {
    error: "give ref or branch, not both",
    path: ["branch"],
  });

/** A user's own connector: `module` is a path (relative to the config file) whose default export is a factory. */
export const moduleConnectorSchema = z.looseObject({
  type: z.literal("module"),
  module: z.string().min(1),
});

/** Documents in the PostgreSQL ledger's own database (workers on many machines write one store). */
export const postgresDocsSinkSchema = z.strictObject({
  type: z.literal("postgres-docs"),
  table: name("table").optional(),
});

/**
 * Episodes of agent sessions with what an LLM extracted from them (entities, facts): the knowledge store of
 * the ledger's own database, beside the episodes' text in its document store (searched by `memory search`).
 */
export const memorySinkSchema = z.strictObject({
  type: z.literal("memory"),
  table: name("table").optional(),
});

export const sqliteDocsSinkSchema = z.strictObject({
  type: z.literal("sqlite-docs"),
  /** The collection documents go to; default: the phase's name (so phases never overwrite each other's keys). */
  table: name("table").optional(),
});

/** Items from a JSON API, page by page, through a provider's resilient client. */
export const httpJsonSourceSchema = z.strictObject({
  type: z.literal("http-json"),
  provider: name("provider"),
  /** Relative to the provider's base_url, or absolute; with for_each, {id} is replaced by each parent key. */
  url: z.string().min(1),
  for_each: name("phase").optional(),
  /** Dot path to the array of items in the body; "" for a body that is the array. */
  items_path: z.string().default("items"),
  key: z.string().min(1).default("id"),
  /** Field holding the item's version; without it, a hash of the item's JSON. */
  version: z.string().min(1).optional(),
  pagination: z
    .strictObject({
      style: z.enum(["page", "offset", "cursor", "link", "none"]).default("page"),
      size: z.number().int().min(1).default(50),
      page_param: z.string().default("page"),
      size_param: z.string().default("per_page"),
      offset_param: z.string().default("offset"),
      cursor_param: z.string().default("cursor"),
      cursor_path: z.string().default("next_cursor"),
      max_pages: z.number().int().min(1).default(10_000),
    })
    .prefault({}),
  /** Incremental: `param` gets the checkpoint; the checkpoint moves to the newest `field` seen. */
  since: z
    .strictObject({ param: z.string().default("since"), field: z.string().default("updated_at") })
    .optional(),
  query: z.record(z.string(), z.string()).default({}),
});

const duration = (what: string) =>
  z.string().refine((s) => parseDuration(s) !== null, {
    error: (iss) =>
      `invalid ${what} ${JSON.stringify(iss.input)}; use a whole number with s, m, h or d, e.g. 30s, 10m, 2h`,
  });

/** Coding-agent transcripts (Claude Code, Codex CLI) split into episodes: bounded runs of turns of one session. */
export const sessionsSourceSchema = z.strictObject({
  type: z.literal("sessions"),
  /** Globs of transcript files ("~" is $HOME; relative to the config file); default by format. */
  path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** auto: told per file from its first records. */
  format: z.enum(["auto", "claude-code", "codex"]).default("auto"),
  /** Globs over each file's path below its path glob's folder. */
  include: globs.default(["**"]),
  exclude: globs.default([]),
  /** At most this many turns in an episode. */
  episode_turns: z.number().int().min(1).max(1000).default(8),
  /** An episode closes early when its text would pass this many characters. */
  episode_chars: z.number().int().min(200).default(24_000),
  /** A session whose file has not changed for this long is finished: its trailing turns are emitted. */
  idle_after: duration("idle_after").default("10m"),
  /** A tool call's input and its result are each cut to this many characters. */
  max_tool_chars: z.number().int().min(0).default(400),
});

/** Embeddings from an OpenAI-compatible /v1/embeddings endpoint (OpenAI, Ollama, vLLM). */
export const embeddingsEnrichSchema = z.strictObject({
  type: z.literal("openai-embeddings"),
  provider: name("provider"),
  model: z.string().min(1).default("text-embedding-3-small"),
  /** When the provider is unavailable: complete the item raw and record a debt instead of failing it. */
  degradable: z.boolean().default(false),
  batch_size: z.number().int().min(1).max(2048).default(32),
  max_input_chars: z.number().int().min(1).default(8000),
});

/** The kinds of entity llm-extract asks for by default: what a coding session is about. */
export const CODING_ENTITY_TYPES = [
  "file",
  "function",
  "library",
  "error",
  "decision",
  "person",
  "repository",
  "command",
  "concept",
];

/**
 * Entities, facts and a summary extracted by an LLM from each document through an OpenAI-compatible
 * /v1/chat/completions endpoint with structured output.
 */
export const llmExtractSchema = z
  .strictObject({
    type: z.literal("llm-extract"),
    provider: name("provider"),
    model: z.string().min(1),
    /** When the provider is down, the budget spent or the answer unusable: store the item raw and owe the step. */
    degradable: z.boolean().default(true),
    /** Replaces the default instructions (the system message); the document's text is the user message. */
    prompt: z.string().min(1).optional(),
    entity_types: z.array(z.string().min(1)).min(1).default(CODING_ENTITY_TYPES),
    /** A JSON schema for the answer instead of the default; it must still yield summary, entities and facts. */
    schema: z.record(z.string(), z.unknown()).optional(),
    /** OpenAI's strict structured output: the schema is checked at load for what strict demands. */
    strict: z.boolean().default(true),
    /** auto: json_schema, falling back to json_object for good when the server refuses json_schema. */
    response_format: z.enum(["auto", "json_schema", "json_object"]).default("auto"),
    max_input_chars: z.number().int().min(200).default(48_000),
    max_output_tokens: z.number().int().min(16).default(2048),
    temperature: z.number().min(0).max(2).default(0),
    budget: z
      .strictObject({
        /** Tokens this step may spend in one run (prompt + completion); then episodes are stored raw and owed. */
        max_tokens_per_run: z.number().int().positive().optional(),
        /** Tokens a UTC day, across every run and process on the ledger. */
        max_tokens_per_day: z.number().int().positive().optional(),
      })
      .prefault({}),
  })
  .superRefine((s, ctx) => {
    const problem = s.schema && s.strict ? strictSchemaProblem(s.schema) : undefined;
    if (problem)
      ctx.addIssue({ code: "custom", message: problem.message, path: ["schema", ...problem.path] });
  });

const moduleEnrichSchema = moduleConnectorSchema.extend({
  degradable: z.boolean().default(false),
  provider: name("provider").optional(),
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

/** One remote's resilience policy, shared by every call to it and by every process. */
export const providerSchema = z.strictObject({
  base_url: z.url().optional(),
  /** Sent with every request; values may use ${ENV_VAR}. Never logged. */
  headers: z.record(z.string(), z.string()).default({}),
  /** Sent as `Authorization: Bearer …` (OpenAI-compatible providers); usually "${OPENAI_API_KEY}". Never logged. */
  api_key: z.string().min(1).optional(),
  retry: z
    .strictObject({
      max_attempts: z.number().int().min(1).default(3),
      base_delay: seconds(0).default(1),
      max_delay: seconds(0).default(60),
      exponential_base: z.number().min(1).default(2),
      jitter: z.union([z.enum(["full", "decorrelated", "none"]), z.boolean()]).default("full"),
      budget: seconds(0, true).default(300),
    })
    .prefault({}),
  breaker: z
    .strictObject({
      failure_threshold: z.number().int().min(1).default(5),
      success_threshold: z.number().int().min(1).default(2),
      timeout: seconds(0, true).default(60),
      max_timeout: seconds(0, true).default(600),
      half_open_max_calls: z.number().int().min(1).default(1),
      failure_rate: z
        .strictObject({
          threshold: z.number().gt(0).max(1),
          window: seconds(0, true),
          min_calls: z.number().int().min(1).default(10),
        })
        .optional(),
    })
    .prefault({}),
  rate: z
    .strictObject({
      requests: z.number().positive(),
      per_seconds: seconds(0, true),
      burst: z.number().min(1).default(1),
    })
    .optional(),
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
export type ProviderConfig = z.infer<typeof providerSchema>;
export type GitSourceConfig = z.infer<typeof gitSourceSchema>;
export type GithubSourceConfig = z.infer<typeof githubSourceSchema>;
export type HttpJsonSourceConfig = z.infer<typeof httpJsonSourceSchema>;
export type SessionsSourceConfig = z.infer<typeof sessionsSourceSchema>;
export type EmbeddingsEnrichConfig = z.infer<typeof embeddingsEnrichSchema>;
export type LlmExtractConfig = z.infer<typeof llmExtractSchema>;
export type ModuleConnectorConfig = z.infer<typeof moduleConnectorSchema>;
export type MemorySinkConfig = z.infer<typeof memorySinkSchema>;
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
