import { z } from "zod";

// Input and output schemas of the memory tools: what an agent reads and adds to its own memory.

const jobName = z.string().min(1).describe("job name (see list_jobs); default: every job's memory");

export const searchMemoryInput = {
  query: z
    .string()
    .min(1)
    .describe("what to recall: names of files, functions, libraries, errors, decisions, or plain words"),
  kind: z
    .enum(["all", "episodes", "entities", "facts"])
    .default("all")
    .describe("episodes: past session excerpts; entities: things; facts: dated relations; all: fused"),
  limit: z.number().int().min(1).max(50).default(10),
  job: jobName.optional(),
};

const episode = z.looseObject({
  key: z.string(),
  session: z.string().nullable(),
  startedAt: z.number().nullable(),
  extracted: z.boolean(),
  snippet: z.string(),
});
const entity = z.looseObject({ id: z.number(), name: z.string(), type: z.string(), description: z.string() });
const fact = z.looseObject({
  id: z.number(),
  subject: z.string(),
  relation: z.string(),
  object: z.string(),
  fact: z.string(),
  validAt: z.number(),
  invalidAt: z.number().nullable(),
});

export const searchMemoryOutput = z.looseObject({
  hits: z.array(
    z.looseObject({
      kind: z.enum(["episode", "entity", "fact"]),
      score: z.number(),
      episode: episode.optional(),
      entity: entity.optional(),
      fact: fact.optional(),
    }),
  ),
});

export const getEntityInput = {
  name: z.string().min(1).optional().describe("the entity's name (any spelling or alias; case-insensitive)"),
  id: z.number().int().optional().describe("or its id, from search_memory"),
  type: z
    .string()
    .min(1)
    .optional()
    .describe("file, function, library, error, decision, person, repository, ..."),
  job: jobName.optional(),
};

export const getEntityOutput = z.looseObject({
  entity: entity.nullable(),
  facts: z.array(fact),
  episodes: z.array(episode),
});

export const getEpisodesInput = {
  session: z.string().min(1).optional().describe("a session's id: its episodes"),
  since: z.string().min(1).optional().describe("ISO time: episodes from then"),
  until: z.string().min(1).optional().describe("ISO time: episodes up to then"),
  limit: z.number().int().min(1).max(100).default(20),
  job: jobName.optional(),
};

export const getEpisodesOutput = z.looseObject({ episodes: z.array(episode) });

export const addMemoryInput = {
  text: z.string().min(1).describe("the note: a decision, a fix, a convention worth recalling later"),
  title: z.string().min(1).optional(),
  session: z.string().min(1).optional().describe("the session it belongs to, if any"),
  job: jobName.optional().describe("the job whose memory takes it (default: the first with a memory sink)"),
};

export const addMemoryOutput = z.looseObject({
  job: z.string(),
  key: z.string(),
  degradation: z.enum(["full", "raw_only"]),
  owed: z.array(z.string()),
});

export const syncSessionsInput = {
  job: z.string().min(1).optional().describe("one sessions job (default: every job with a sessions source)"),
  wait: z.boolean().default(false).describe("wait (up to 50 s) for the results instead of returning at once"),
};

export const syncSessionsOutput = z.looseObject({
  runs: z.array(
    z.looseObject({
      runId: z.string(),
      job: z.string(),
      status: z.string(),
      degradation: z
        .string()
        .describe("expected while running (raw_only: the LLM is down), final once ended"),
    }),
  ),
});
