import type { LlmExtractConfig } from "../../config/steps-schema.js";

/** The instructions (system message) llm-extract sends unless the configuration gives its own `prompt`. */
export function defaultPrompt(entityTypes: readonly string[]): string {
  return [
    "You extract lasting knowledge from one episode of a coding agent's session: the user message holds",
    "its turns (the user's prompts, the assistant's answers, the tools it ran and what they returned).",
    "Answer with one JSON object with these keys:",
    '- "summary": two or three sentences on what was done, and why;',
    '- "entities": what the episode mentions that matters later, each {"name", "type", "description"};',
    `  type is one of: ${entityTypes.join(", ")}; a file by its path as written, a function by its bare`,
    "  name, a library by its package name, an error by its code or message; description: one short line;",
    '- "facts": relations between those entities, each {"subject", "relation", "object", "fact", "valid_at",',
    '  "exclusive"}: subject and object are names from "entities"; relation is a short snake_case verb',
    "  (uses, raised_in, defined_in, fixed, decided, depends_on, status); fact is one sentence; valid_at is",
    "  an ISO 8601 time the episode states for it, else null; exclusive is true when the subject has one",
    "  object at a time for this relation (a status, a version, a current choice).",
    "Name only what the episode says; invent nothing.",
  ].join("\n");
}

/** The answer's JSON schema (strict: every object closed, every property required). */
export function extractionSchema(entityTypes: readonly string[]): Record<string, unknown> {
  const object = (properties: Record<string, unknown>) => ({
    type: "object",
    additionalProperties: false,
    required: Object.keys(properties),
    properties,
  });
  const text = { type: "string" };
  return object({
    summary: text,
    entities: {
      type: "array",
      items: object({ name: text, type: { type: "string", enum: [...entityTypes] }, description: text }),
    },
    facts: {
      type: "array",
      items: object({
        subject: text,
        relation: text,
        object: text,
        fact: text,
        valid_at: { type: ["string", "null"] },
        exclusive: { type: "boolean" },
      }),
    },
  });
}

export interface ChatMessage {
  role: "system" | "user";
  content: string;
}

export function buildMessages(o: LlmExtractConfig, text: string): ChatMessage[] {
  return [
    { role: "system", content: o.prompt ?? defaultPrompt(o.entity_types) },
    { role: "user", content: text },
  ];
}

/** The chat completions request body, in the structured-output mode the server accepts. */
export function buildRequest(
  o: LlmExtractConfig,
  messages: ChatMessage[],
  format: "json_schema" | "json_object",
): Record<string, unknown> {
  return {
    model: o.model,
    messages,
    temperature: o.temperature,
    max_tokens: o.max_output_tokens,
    response_format:
      format === "json_object"
        ? { type: "json_object" }
        : {
            type: "json_schema",
            json_schema: {
              name: "extraction",
              strict: o.strict,
              schema: o.schema ?? extractionSchema(o.entity_types),
            },
          },
  };
}

/**
 * A request's tokens before it is sent, as rate limiters count them: the messages' characters / 4 (a few
 * per message for the roles) plus every completion token it may spend.
 */
export function estimateTokens(messages: readonly ChatMessage[], maxOutputTokens: number): number {
  const chars = messages.reduce((n, m) => n + m.content.length, 0);
  return Math.ceil(chars / 4) + 4 * messages.length + maxOutputTokens;
}
