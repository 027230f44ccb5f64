/** Where a JSON schema breaks OpenAI's strict structured-output rules, and how. */
export interface StrictSchemaProblem {
  /** Key path inside the schema, e.g. ["properties", "facts", "items"]. */
  path: string[];
  message: string;
}

/**
 * OpenAI's strict rules (`strict: true`), which its server enforces by refusing every request: each
 * object has `additionalProperties: false` and lists every property in `required`. The first problem
 * found, depth first, or undefined.
 */
export function strictSchemaProblem(schema: unknown, path: string[] = []): StrictSchemaProblem | undefined {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return undefined;
  const node = schema as Record<string, unknown>;
  const props = (typeof node.properties === "object" ? node.properties : undefined) as
    Record<string, unknown> | undefined;
  const isObject =
    node.type === "object" || (Array.isArray(node.type) && node.type.includes("object")) || props;
  if (isObject) {
    if (node.additionalProperties !== false)
      return { path, message: "additionalProperties must be false with strict" };
    const required: unknown[] = Array.isArray(node.required) ? node.required : [];
    const missing = Object.keys(props ?? {}).find((k) => !required.includes(k));
    if (missing !== undefined)
      return { path, message: `"${missing}" must be listed in required with strict (every property is)` };
  }
  const children: [string[], unknown][] = [
    ...Object.entries(props ?? {}).map(([k, v]): [string[], unknown] => [["properties", k], v]),
    [["items"], node.items],
  ];
  for (const key of ["anyOf", "$defs", "definitions"]) {
    const sub = node[key];
    if (Array.isArray(sub)) sub.forEach((s, i) => children.push([[key, String(i)], s]));
    else if (typeof sub === "object" && sub !== null)
      for (const [k, v] of Object.entries(sub)) children.push([[key, k], v]);
  }
  for (const [at, child] of children) {
    const p = strictSchemaProblem(child, [...path, ...at]);
    if (p) return p;
  }
  return undefined;
}
