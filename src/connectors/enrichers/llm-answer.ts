import { z } from "zod";
import { DegradableError, PermanentError } from "../../errors.js";
import type { Extraction } from "../../ledger/knowledge.js";

/** What one answer yields: the Extraction without the model and usage, which the step adds. */
export type ExtractedPart = Pick<Extraction, "summary" | "entities" | "facts">;

/** An answer whose content is not JSON of the extraction's shape: asked again once. */
export class MalformedAnswerError extends PermanentError {
  constructor(message: string) {
    super(message);
    this.name = "MalformedAnswerError";
  }
}

const name = z.string().trim().min(1);
const answerSchema = z.object({
  summary: z.string(),
  entities: z.array(
    z.object({
      name,
      type: z
        .string()
        .trim()
        .min(1)
        .transform((t) => t.toLowerCase()),
      description: z.string().default(""),
    }),
  ),
  facts: z.array(
    z.object({
      subject: name,
      relation: name,
      object: name,
      fact: z.string().default(""),
      valid_at: z.string().nullable().default(null),
      exclusive: z.boolean().default(false),
    }),
  ),
});

interface Choice {
  finish_reason?: unknown;
  message?: { content?: unknown; refusal?: unknown };
}

/**
 * Reads a chat completion: a cut answer (finish_reason "length") or a refusal fails the step for this
 * episode (degradable: stored raw, owed); content that is not JSON of the extraction's shape is a
 * MalformedAnswerError (the step asks once more). Facts naming an entity the answer did not list get
 * that entity (type "concept"), so every fact joins two entities.
 */
export function readAnswer(body: unknown, provider: string): ExtractedPart {
  const choice = (body as { choices?: Choice[] } | null)?.choices?.[0];
  if (!choice) throw new MalformedAnswerError(`${provider}: the answer has no choices`);
  const refusal = choice.message?.refusal;
  if (typeof refusal === "string" && refusal !== "")
    throw new DegradableError(`${provider}: the model refused: ${refusal.slice(0, 200)}`, "LLM_REFUSAL");
  if (choice.finish_reason === "length")
    throw new DegradableError(
      `${provider}: the answer was cut at max_output_tokens (finish_reason "length"); raise max_output_tokens or lower max_input_chars`,
      "LLM_LENGTH",
    );
  const content = choice.message?.content;
  if (typeof content !== "string") throw new MalformedAnswerError(`${provider}: the answer has no content`);
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    throw new MalformedAnswerError(`${provider}: the answer is not JSON (${content.length} chars)`);
  }
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "(top level)";
    throw new MalformedAnswerError(
      `${provider}: the answer does not fit the schema at ${where}: ${issue?.message ?? ""}`,
    );
  }
  const { summary, entities, facts } = parsed.data;
  const known = new Set(entities.map((e) => e.name.toLowerCase()));
  for (const f of facts)
    for (const n of [f.subject, f.object])
      if (!known.has(n.toLowerCase())) {
        known.add(n.toLowerCase());
        entities.push({ name: n, type: "concept", description: "" });
      }
  return { summary, entities, facts };
}
