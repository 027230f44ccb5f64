import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from "yaml";
import { healthSettings } from "./health.js";
import { ConfigError } from "../errors.js";
import { describeIssue, withoutFollowOns } from "./config-issues.js";
import { providerOverrides, syncOverrides } from "./env.js";
import { codebaseJobs } from "./codebase-jobs.js";
import { configSchema, type ConfigFile } from "./schema.js";
import {
  interpolateSecret,
  registerHeaderSecrets,
  registerSecret,
  registerSourceSecrets,
} from "./secrets.js";

export const DEFAULT_CONFIG_FILE = "syncwarden.yaml";
/** The names looked for in the working directory, in this order (sync_config.yaml: the background documents' name). */
export const CONFIG_FILE_NAMES = [DEFAULT_CONFIG_FILE, "sync_config.yaml"] as const;

/** `-c FILE`, else $SYNCWARDEN_CONFIG, else ./syncwarden.yaml, else ./sync_config.yaml. */
export function resolveConfigFile(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string {
  const chosen = flag ?? env.SYNCWARDEN_CONFIG;
  if (chosen !== undefined) return path.resolve(cwd, chosen);
  const found = CONFIG_FILE_NAMES.map((n) => path.join(cwd, n)).find((f) => existsSync(f));
  if (found === undefined) {
    throw new ConfigError(
      `no ${CONFIG_FILE_NAMES.join(" or ")} in ${cwd}; create one (see examples/) or pass -c FILE`,
    );
  }
  return found;
}

/** A validated configuration and where it came from. */
export interface LoadedConfig {
  file: string;
  /** The folder of the config file: relative paths resolve against it. */
  baseDir: string;
  /** Absolute path of the state folder. */
  stateDir: string;
  config: ConfigFile;
  /** A PostgreSQL ledger (config `ledger:` or SYNCWARDEN_DATABASE_URL); absent: SQLite in the state folder. */
  ledger?: { url: string; schema: string; poolSize: number };
  /** false when RESILIENCE_ENABLED=false. */
  resilienceEnabled: boolean;
  /** RESILIENCE_ENABLED, RESILIENCE_RETRY_ENABLED, RESILIENCE_CIRCUIT_BREAKER_ENABLED (absent: all on but `resilienceEnabled`). */
  resilience?: { enabled: boolean; retry: boolean; breaker: boolean };
}

function formatPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>(
    (acc, k) => (typeof k === "number" ? `${acc}[${k}]` : acc === "" ? String(k) : `${acc}.${String(k)}`),
    "",
  );
}

/** The closest YAML node to a key path: the node itself, else its nearest existing parent. */
function locate(
  doc: Document,
  keyPath: readonly PropertyKey[],
  lines: LineCounter,
  unknownKey?: string,
): string {
  for (let n = keyPath.length; n >= 0; n--) {
    const node = doc.getIn(keyPath.slice(0, n), true) as Node | undefined;
    if (!node?.range) continue;
    let offset = node.range[0];
    if (unknownKey !== undefined && n === keyPath.length && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === unknownKey);
      if (pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
    }
    const { line, col } = lines.linePos(offset);
    return `${line}:${col}`;
  }
  return "1:1";
}

/** Reads, interpolates env overrides into, and validates a config file; every error names file:line and key path. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const abs = path.resolve(file);
  if (!existsSync(abs)) throw new ConfigError(`configuration file not found: ${abs}`);
  const text = readFileSync(abs, "utf8");
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const { line, col } = lines.linePos(syntax.pos[0]);
    throw new ConfigError(`${abs}:${line}:${col}: invalid YAML: ${syntax.message.split("\n")[0] ?? ""}`);
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${abs}:1:1: the configuration must be a mapping with a "jobs:" key`);
  }
  const overrides = syncOverrides(env);
  const forProviders = providerOverrides(env);
  const input = raw as Record<string, unknown>;
  if (overrides.size > 0) {
    const sync: Record<string, unknown> =
      typeof input.sync === "object" && input.sync !== null ? { ...input.sync } : {};
    for (const [key, { value }] of overrides) sync[key] = value;
    input.sync = sync;
  }
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const located = withoutFollowOns(parsed.error.issues).flatMap((issue) =>
      describeIssue(issue, input).map((d) => {
        const where = formatPath(d.path);
        const envName = d.path[0] === "sync" ? overrides.get(d.path[1] as never)?.from : undefined;
        if (envName !== undefined)
          return { line: 0, text: `environment variable ${envName} (${where}): ${d.message}` };
        const at = locate(doc, d.path, lines, d.unknownKey);
        const [line = 0, col = 0] = at.split(":").map(Number);
        return {
          line: line * 1e6 + col,
          text: `${abs}:${at}: ${where === "" ? "(top level)" : where}: ${d.message}`,
        };
      }),
    );
    // each problem once, in the order of the file
    const problems = [...new Map(located.map((p) => [p.text, p])).values()].sort((a, b) => a.line - b.line);
    throw new ConfigError(`invalid configuration:\n  ${problems.map((p) => p.text).join("\n  ")}`);
  }
  try {
    Object.assign(parsed.data.jobs, codebaseJobs(parsed.data.codebases, parsed.data.processing, env));
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${abs}: ${err.message}`);
    throw err;
  }
  healthSettings(parsed.data, abs);
  for (const job of Object.values(parsed.data.jobs))
    for (const phase of job.phases) registerSourceSecrets(phase.source, env);
  for (const provider of Object.values(parsed.data.providers)) {
    // every process that reads this configuration knows its secrets, whether or not it calls the provider
    registerHeaderSecrets(provider.headers, env);
    if (provider.api_key !== undefined) registerHeaderSecrets({ authorization: provider.api_key }, env);
    for (const {
      path: [group, key],
      value,
    } of forProviders.values) {
      (provider[group as "retry"] as unknown as Record<string, number>)[key] = value;
    }
    if (forProviders.jitter) provider.retry.jitter = forProviders.jitter;
  }
  const baseDir = path.dirname(abs);
  const stateDir = path.resolve(baseDir, env.SYNCWARDEN_STATE_DIR ?? parsed.data.state_dir ?? ".syncwarden");
  const { enabled, retry, breaker } = forProviders;
  const ledger = ledgerOf(parsed.data, env, abs);
  if (!ledger)
    for (const [job, j] of Object.entries(parsed.data.jobs))
      for (const p of j.phases)
        if (p.sink.type === "postgres-docs")
          throw new ConfigError(
            `${abs}: jobs.${job}.phases.${p.name}.sink: postgres-docs writes into the PostgreSQL ledger; set ledger.url (or SYNCWARDEN_DATABASE_URL), or use sqlite-docs`,
          );
  return {
    file: abs,
    baseDir,
    stateDir,
    ...(ledger && { ledger }),
    config: parsed.data,
    resilienceEnabled: enabled,
    resilience: { enabled, retry, breaker },
  };
}

/** The PostgreSQL ledger the configuration names: SYNCWARDEN_DATABASE_URL (and _SCHEMA) before `ledger:`. */
function ledgerOf(
  config: ConfigFile,
  env: NodeJS.ProcessEnv,
  file: string,
): LoadedConfig["ledger"] | undefined {
  const raw = env.SYNCWARDEN_DATABASE_URL ?? config.ledger?.url;
  if (raw === undefined || raw === "") return undefined;
  const url = interpolateSecret(raw, env, (name) => {
    throw new ConfigError(`${file}: ledger.url: environment variable ${name} is not set`);
  });
  if (!/^postgres(ql)?:\/\//.test(url))
    throw new ConfigError(
      `${env.SYNCWARDEN_DATABASE_URL !== undefined ? "SYNCWARDEN_DATABASE_URL" : `${file}: ledger.url`}: expected a postgres:// URL`,
    );
  try {
    const password = new URL(url).password;
    if (password) registerSecret(decodeURIComponent(password));
  } catch {
    throw new ConfigError(`${file}: ledger.url is not a valid URL`);
  }
  const schema = env.SYNCWARDEN_DATABASE_SCHEMA ?? config.ledger?.schema ?? "syncwarden";
  return { url, schema, poolSize: config.ledger?.pool_size ?? 10 };
}
