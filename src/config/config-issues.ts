import { z } from "zod";
import { didYouMean } from "./closest-name.js";
import { configSchema } from "./schema.js";

/** One problem of a configuration: where (key path, and the unknown or invalid key under it) and what. */
export interface ConfigProblem {
  path: PropertyKey[];
  message: string;
  unknownKey?: string;
}

type JsonNode = {
  properties?: Record<string, JsonNode>;
  additionalProperties?: JsonNode | boolean;
  items?: JsonNode;
  anyOf?: JsonNode[];
  oneOf?: JsonNode[];
  const?: unknown;
} & Record<string, unknown>;

let jsonSchema: JsonNode | undefined;

/** The value at a key path of the raw configuration. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const k of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** The branch of a union the value belongs to (by its `type`), else the first object branch. */
function branch(node: JsonNode, value: unknown): JsonNode {
  const options = node.anyOf ?? node.oneOf;
  if (!options) return node;
  const type = typeof value === "object" && value !== null ? (value as { type?: unknown }).type : undefined;
  return options.find((o) => o.properties?.type?.const === type) ?? options.find((o) => o.properties) ?? node;
}

/** The keys the configuration accepts at a key path (for "did you mean"), from the schema itself. */
function knownKeysAt(input: unknown, path: readonly PropertyKey[]): string[] {
  jsonSchema ??= z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as JsonNode;
  let node: JsonNode | undefined = branch(jsonSchema, input);
  for (let i = 0; i < path.length && node; i++) {
    const k = path[i]!;
    const next: JsonNode | undefined =
      typeof k === "number"
        ? node.items
        : (node.properties?.[String(k)] ??
          (typeof node.additionalProperties === "object" ? node.additionalProperties : undefined));
    node = next && branch(next, valueAt(input, path.slice(0, i + 1)));
  }
  return Object.keys(node?.properties ?? {});
}

/** A value as the YAML writer would recognise it: strings quoted, numbers and lists as JSON. */
function shown(v: unknown): string {
  if (v === undefined) return "nothing";
  // JSON.stringify gives undefined for these (YAML never yields them, a caller's object might)
  if (typeof v === "function" || typeof v === "symbol" || typeof v === "bigint") return typeof v;
  return JSON.stringify(v);
}

/** Zod's own messages start this way; ours (written in the schema) are kept as they are. */
const GENERIC = /^(Too small|Too big|Invalid|Unrecognized)/;

/** Zod's type names as a YAML writer knows them. */
const EXPECTED: Readonly<Record<string, string>> = {
  array: "a list",
  object: "a mapping",
  record: "a mapping",
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
};

/** What a thing at a path is called: the type of a `source`, an `enrich` step, a `sink`. */
function owner(path: readonly PropertyKey[]): string {
  const parent = path.at(-2);
  if (typeof parent === "number") return `${String(path.at(-3))} step`;
  return String(parent ?? "configuration");
}

function bound(issue: { minimum?: unknown; maximum?: unknown; inclusive?: boolean }, small: boolean): string {
  const limit = String(small ? issue.minimum : issue.maximum);
  if (small) return issue.inclusive === false ? `more than ${limit}` : `at least ${limit}`;
  return issue.inclusive === false ? `less than ${limit}` : `at most ${limit}`;
}

/**
 * The issues without those that only follow from another: a misspelt top-level key (`job:`) also leaves
 * the configuration without jobs, which is the same problem and is reported once, as the misspelling.
 */
export function withoutFollowOns(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  const topLevelTypo = issues.some((i) => i.code === "unrecognized_keys" && i.path.length === 0);
  return issues.filter(
    (i) => !(topLevelTypo && i.code === "custom" && i.path.length === 1 && i.path[0] === "jobs"),
  );
}

/** Every problem in one zod issue, each naming the offending value (an unknown-key issue is one per key). */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): ConfigProblem[] {
  const value = valueAt(input, issue.path);
  const custom = !GENERIC.test(issue.message);
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeysAt(input, issue.path);
      return issue.keys.map((key) => ({
        path: issue.path,
        unknownKey: key,
        message: `unknown key "${key}"${didYouMean(key, known) || (known.length > 0 ? `; keys here: ${known.join(", ")}` : "")}`,
      }));
    }
    case "invalid_union": {
      // zod adds the discriminator's options to the issue without typing them
      const union = issue as unknown as { discriminator?: string; options?: unknown[] };
      if (union.discriminator !== undefined && Array.isArray(union.options)) {
        const options = union.options.map(String);
        const what = owner(issue.path);
        const wrong = (valueAt(input, issue.path.slice(0, -1)) as { type?: unknown } | undefined)?.type;
        const message =
          wrong === undefined
            ? `${what} needs a type: one of ${options.join(", ")}`
            : `${what} type ${shown(wrong)} is not one of ${options.join(", ")}${typeof wrong === "string" ? didYouMean(wrong, options) : ""}`;
        return [{ path: issue.path, message }];
      }
      const accepted = issue.errors
        .flat()
        .flatMap((e) =>
          e.code === "invalid_value"
            ? e.values.map((v) => String(v))
            : e.code === "invalid_type"
              ? e.expected === "boolean"
                ? ["true", "false"]
                : [`a ${e.expected}`]
              : [],
        );
      return [{ path: issue.path, message: `${shown(value)} is not one of ${accepted.join(", ")}` }];
    }
    case "invalid_value": {
      const options = issue.values.map(String);
      const hint = typeof value === "string" ? didYouMean(value, options) : "";
      return [{ path: issue.path, message: `${shown(value)} is not one of ${options.join(", ")}${hint}` }];
    }
    case "invalid_key": {
      const inner = issue.issues[0];
      const message =
        inner && !GENERIC.test(inner.message)
          ? inner.message
          : `${shown(issue.path.at(-1))} is not a valid key`;
      // located at the key itself, under its mapping (jobs, providers, …)
      return [{ path: issue.path.slice(0, -1), unknownKey: String(issue.path.at(-1)), message }];
    }
    case "too_small":
    case "too_big": {
      if (custom) return [{ path: issue.path, message: issue.message }];
      const small = issue.code === "too_small";
      const unit = issue.origin === "array" ? " items" : issue.origin === "string" ? " characters" : "";
      const got = Array.isArray(value) ? `${value.length} items` : shown(value);
      return [
        {
          path: issue.path,
          message: `${got} is too ${small ? "small" : "big"}: must be ${bound(issue, small)}${unit}`,
        },
      ];
    }
    case "invalid_type": {
      if (custom) return [{ path: issue.path, message: issue.message }];
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (value === undefined) return [{ path: issue.path, message: `missing: needs ${expected}` }];
      return [{ path: issue.path, message: `${shown(value)} is not ${expected}` }];
    }
    case "invalid_format": {
      if (custom) return [{ path: issue.path, message: issue.message }];
      return [{ path: issue.path, message: `${shown(value)} is not a valid ${issue.format}` }];
    }
    default:
      return [{ path: issue.path, message: custom ? issue.message : `${shown(value)}: ${issue.message}` }];
  }
}
