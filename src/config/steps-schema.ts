import { z } from "zod";
import { name } from "./names.js";
import { moduleConnectorSchema } from "./sources-schema.js";
import { strictSchemaProblem } from "./strict-json-schema.js";

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

export const moduleEnrichSchema = moduleConnectorSchema.extend({
  degradable: z.boolean().default(false),
  provider: name("provider").optional(),
});

export type EmbeddingsEnrichConfig = z.infer<typeof embeddingsEnrichSchema>;
export type LlmExtractConfig = z.infer<typeof llmExtractSchema>;
