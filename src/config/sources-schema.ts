import { z } from "zod";
import { GITHUB_REPO } from "./github-repo.js";
import { name } from "./names.js";
import { parseDuration } from "./schedule.js";

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

export type GitSourceConfig = z.infer<typeof gitSourceSchema>;
export type GithubSourceConfig = z.infer<typeof githubSourceSchema>;
export type HttpJsonSourceConfig = z.infer<typeof httpJsonSourceSchema>;
export type SessionsSourceConfig = z.infer<typeof sessionsSourceSchema>;
export type ModuleConnectorConfig = z.infer<typeof moduleConnectorSchema>;
