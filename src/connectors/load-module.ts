import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError, errorMessage } from "../errors.js";
import type { ConnectorContext, ConnectorFactory } from "./types.js";

/** Loads a user's connector module and calls its default-exported factory with the options from the config. */
export async function loadModuleConnector<T>(
  where: string,
  options: Record<string, unknown> & { module: string },
  required: readonly string[],
  ctx: Omit<ConnectorContext, "signal">,
): Promise<T> {
  const file = path.resolve(ctx.baseDir, options.module);
  if (!existsSync(file)) throw new ConfigError(`${where}.module: no such file: ${file}`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    throw new ConfigError(`${where}.module: cannot load ${file}: ${errorMessage(e)}`, e);
  }
  if (typeof mod.default !== "function") {
    throw new ConfigError(`${where}.module: ${file} must export a factory function as its default export`);
  }
  const { type: _type, module: _module, ...rest } = options;
  const made = (await (mod.default as ConnectorFactory<unknown>)(rest, ctx)) as Record<
    string,
    unknown
  > | null;
  const missing = required.filter((m) => typeof made?.[m] !== "function");
  if (made === null || missing.length > 0) {
    throw new ConfigError(`${where}.module: the object made by ${file} lacks ${missing.join(", ")}()`);
  }
  return made as T;
}
