import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigError } from "../errors.js";
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

/** `$SYNCWARDEN_CACHE_DIR` (`off`: no cache), else `$XDG_CACHE_HOME/syncwarden`, else `~/.cache/syncwarden`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env.SYNCWARDEN_CACHE_DIR;
  if (set === "off" || set === "") return undefined;
  if (set !== undefined) return path.resolve(set);
  return path.join(env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "syncwarden");
}

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

const FORMAT = 1;

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
      key = createHash("sha256")
        .update(JSON.stringify([FORMAT, buildStamp(), abs, text, vars]))
        .digest("hex");
      entry = path.join(dir, `config-${createHash("sha256").update(abs).digest("hex").slice(0, 32)}.json`);
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
