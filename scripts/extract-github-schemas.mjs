#!/usr/bin/env node
// Extracts, from GitHub's published OpenAPI description, the JSON schemas of the responses the fake
// GitHub server (src/testing/fake-github.ts) serves, into a small committed fixture that
// test/fake-github.test.ts validates the fake against with ajv.
//
// The description comes with @octokit/openapi (385 MiB unpacked, so never a dependency of this package):
//   mkdir /tmp/oa && cd /tmp/oa && npm init -y && npm install @octokit/openapi
//   node scripts/extract-github-schemas.mjs /tmp/oa/node_modules/@octokit/openapi/generated/api.github.com.json
//
// What it does to the OpenAPI 3.0 schemas so plain JSON-schema validators read them:
// - every component schema reached from the routes is kept once under $defs, and each $ref
//   "#/components/schemas/X" becomes "#/$defs/X" (so the fixture is self-contained, and cycles are fine);
// - `nullable: true` becomes a type union (`type: [T, "null"]`, with null added to an `enum`), or, where
//   there is no `type` (a $ref, allOf, oneOf, anyOf), `anyOf: [the schema, { type: "null" }]`;
// - annotations and OpenAPI-only keywords (description, example, x-*, discriminator, ...) are dropped.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DEFAULT_OUT = path.join(ROOT, "test/fixtures/github-openapi-schemas.json");

/** The routes the fake serves: "METHOD path" as the description spells it. */
export const ROUTES = [
  "GET /repos/{owner}/{repo}",
  "GET /repos/{owner}/{repo}/branches/{branch}",
  "GET /repos/{owner}/{repo}/commits/{ref}",
  "GET /repos/{owner}/{repo}/git/trees/{tree_sha}",
  "GET /repos/{owner}/{repo}/compare/{basehead}",
  "GET /repos/{owner}/{repo}/git/blobs/{file_sha}",
  "GET /rate_limit",
];
/** Component schemas wanted besides the routes' own (error bodies). */
export const EXTRA_SCHEMAS = ["basic-error"];

const KEEP = new Set([
  "type",
  "format",
  "properties",
  "required",
  "enum",
  "items",
  "additionalProperties",
  "oneOf",
  "anyOf",
  "allOf",
  "minimum",
  "maximum",
  "minLength",
  "maxLength",
  "minItems",
  "maxItems",
  "pattern",
  "$ref",
]);
const REF_PREFIX = "#/components/schemas/";

function usage(message) {
  process.stderr.write(`${message}\nusage: node scripts/extract-github-schemas.mjs API_GITHUB_COM_JSON [OUT_JSON]\n`);
  process.exit(2);
}

/** A JSON-schema copy of one OpenAPI schema object; component names it refers to are added to `wanted`. */
export function convert(schema, wanted) {
  if (Array.isArray(schema)) return schema.map((s) => convert(s, wanted));
  if (schema === null || typeof schema !== "object") return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) {
    if (!KEEP.has(key)) continue;
    if (key === "$ref") {
      if (!value.startsWith(REF_PREFIX)) throw new Error(`unsupported $ref ${value}`);
      const name = value.slice(REF_PREFIX.length);
      wanted.add(name);
      out.$ref = `#/$defs/${name}`;
    } else if (key === "properties") {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v, wanted)]));
    } else if (key === "additionalProperties" || key === "items") {
      out[key] = typeof value === "boolean" ? value : convert(value, wanted);
    } else if (key === "oneOf" || key === "anyOf" || key === "allOf") {
      out[key] = value.map((s) => convert(s, wanted));
    } else {
      out[key] = value;
    }
  }
  return schema.nullable === true ? nullable(out) : out;
}

/** The schema, also accepting null (OpenAPI 3.0 `nullable: true`). */
function nullable(schema) {
  if (typeof schema.type === "string" && !schema.$ref) {
    const out = { ...schema, type: [schema.type, "null"] };
    if (Array.isArray(schema.enum) && !schema.enum.includes(null)) out.enum = [...schema.enum, null];
    return out;
  }
  if (Array.isArray(schema.type)) {
    return schema.type.includes("null") ? schema : { ...schema, type: [...schema.type, "null"] };
  }
  return { anyOf: [schema, { type: "null" }] };
}

/** The fixture: route → component name, and every component schema reached, converted, under $defs. */
export function extract(api) {
  const routes = {};
  const wanted = new Set(EXTRA_SCHEMAS);
  for (const route of ROUTES) {
    const [method, routePath] = route.split(" ");
    const op = api.paths[routePath]?.[method.toLowerCase()];
    const schema = op?.responses?.["200"]?.content?.["application/json"]?.schema;
    if (!schema) throw new Error(`${route}: no 200 application/json response in the description`);
    if (!schema.$ref?.startsWith(REF_PREFIX)) throw new Error(`${route}: the 200 schema is not a component`);
    const name = schema.$ref.slice(REF_PREFIX.length);
    routes[route] = { operationId: op.operationId, schema: name };
    wanted.add(name);
  }
  const defs = {};
  const queue = [...wanted];
  for (let i = 0; i < queue.length; i++) {
    const name = queue[i];
    if (defs[name]) continue;
    const source = api.components.schemas[name];
    if (!source) throw new Error(`no component schema ${name}`);
    const found = new Set();
    defs[name] = convert(source, found);
    for (const n of found) if (!defs[n] && !queue.includes(n)) queue.push(n);
  }
  const sorted = Object.fromEntries(Object.keys(defs).sort().map((k) => [k, defs[k]]));
  return { routes, $defs: sorted };
}

/** The fixture as the repository's prettier formats it (plain JSON when prettier is not installed). */
async function format(text, file) {
  try {
    const prettier = await import("prettier");
    const options = (await prettier.resolveConfig(file)) ?? {};
    return await prettier.format(text, { ...options, filepath: file });
  } catch {
    return text;
  }
}

async function main() {
  const [input, out = DEFAULT_OUT] = process.argv.slice(2);
  if (!input) usage("missing the path to api.github.com.json");
  const api = JSON.parse(readFileSync(input, "utf8"));
  if (!String(api.openapi).startsWith("3.0")) usage(`expected an OpenAPI 3.0 description, got ${api.openapi}`);
  let version = "unknown";
  try {
    const pkg = JSON.parse(readFileSync(path.join(path.dirname(input), "..", "package.json"), "utf8"));
    if (pkg.name === "@octokit/openapi") version = pkg.version;
  } catch {
    // not inside the package: the version stays unknown
  }
  const fixture = {
    $comment: "Generated by scripts/extract-github-schemas.mjs from @octokit/openapi generated/api.github.com.json; do not edit.",
    source: { package: "@octokit/openapi", version, info: api.info?.version ?? null },
    ...extract(api),
  };
  writeFileSync(out, await format(`${JSON.stringify(fixture, null, 2)}\n`, out));
  const defs = Object.keys(fixture.$defs).length;
  process.stdout.write(`${path.relative(process.cwd(), out)}: ${ROUTES.length} routes, ${defs} schemas\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
