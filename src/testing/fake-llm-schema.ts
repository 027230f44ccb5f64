import { strictSchemaProblem as problemAt } from "../config/strict-json-schema.js";

/** OpenAI's strict-schema refusal, worded as its server words it; undefined for a schema it accepts. */
export function strictSchemaProblem(schema: unknown): string | undefined {
  const p = problemAt(schema);
  if (!p) return undefined;
  const where = `In context=(${p.path.map((c) => `'${c}'`).join(", ")})`;
  return p.message.startsWith("additionalProperties")
    ? `${where}, 'additionalProperties' is required to be supplied and to be false.`
    : `${where}, 'required' is required to be supplied and to be an array including every key in properties. ${p.message}`;
}
