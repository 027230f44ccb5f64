import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";
import { cacheDir } from "./cache-dir.js";
import type { LoadedConfig } from "./load-config.js";

// Finding the config file, and loading it through a cache of validated configurations: the YAML
// parser and the schema library take longer to load than a whole `replicate` with nothing to do, so
// a command whose config file (and environment, and syncwarden build) is unchanged since the last
// load skips both. Kept apart from load-config.ts so that a cache hit imports neither.

export const DEFAULT_CONFIG_FILE = "syncwarden.yaml";

/** `-c FILE`, else $SYNCWARDEN_CONFIG, else ./syncwarden.yaml. */
export function resolveConfigFile(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): string {
  const chosen = flag ?? env.SYNCWARDEN_CONFIG;
  if (chosen !== undefined) return path.resolve(cwd, chosen);
  const here = path.join(cwd, DEFAULT_CONFIG_FILE);
  if (!existsSync(here)) {
    throw new ConfigError(`no ${DEFAULT_CONFIG_FILE} in ${cwd}; create one (see examples/) or pass -c FILE`);
  }
  return here;
}

/** The variables a load reads (env.ts and load-config.ts): part of the cache key. */
const CONFIG_ENV = /^(SYNC_|SYNCWARDEN_|RETRY_|CIRCUIT_BREAKER_|RESILIENCE_ENABLED$)/;

/** The config loader's own build: size and mtime of every module in this folder (a rebuild changes it). */
function buildStamp(): string {
  const dir = path.dirname(fileURLToPath(import.meta.url));
  return readdirSync(dir)
    .sort()
    .map((f) => {
      const st = statSync(path.join(dir, f));
      return `${f}:${st.size}:${st.mtimeMs}`;
    })
    .join(",");
}

const FORMAT = 2;

/** FNV-1a (32 bits, hex) of a string's UTF-16 code units: a short file name, not a check (no crypto to load). */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/**
 * loadConfig, through the cache: a hit needs the same file path and bytes, the same configuration
 * variables in the environment and the same build of the loader; anything else loads (and validates)
 * the file again. Only a valid configuration is cached; a cache that cannot be read or written is
 * ignored.
 */
export async function loadConfigCached(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  const dir = cacheDir(env);
  let text: string | undefined;
  try {
    text = readFileSync(abs, "utf8");
  } catch {
    // loadConfig reports it
  }
  let entry: string | undefined;
  let key: string | undefined;
  if (dir !== undefined && text !== undefined) {
    try {
      const vars = Object.keys(env)
        .filter((k) => CONFIG_ENV.test(k))
        .sort()
        .map((k) => [k, env[k]]);
      // the whole key is kept in the entry and compared as it is; only the file name is a hash
      key = JSON.stringify([FORMAT, buildStamp(), abs, text, vars]);
      entry = path.join(dir, `config-${fnv1a(abs)}.json`);
      const cached = JSON.parse(readFileSync(entry, "utf8")) as { key: string; loaded: LoadedConfig };
      if (cached.key === key) return cached.loaded;
    } catch {
      // no entry yet, or unreadable: load
    }
  }
  const { loadConfig } = await import("./load-config.js");
  const loaded = loadConfig(abs, env);
  if (entry !== undefined && key !== undefined) {
    try {
      mkdirSync(path.dirname(entry), { recursive: true });
      const tmp = `${entry}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ key, loaded }));
      renameSync(tmp, entry);
    } catch {
      // a read-only home: no cache
    }
  }
  return loaded;
}
