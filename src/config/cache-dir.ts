import { homedir } from "node:os";
import path from "node:path";

/** `$SYNCWARDEN_CACHE_DIR` (`off`: no cache), else `$XDG_CACHE_HOME/syncwarden`, else `~/.cache/syncwarden`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const set = env.SYNCWARDEN_CACHE_DIR;
  if (set === "off" || set === "") return undefined;
  if (set !== undefined) return path.resolve(set);
  return path.join(env.XDG_CACHE_HOME || path.join(homedir(), ".cache"), "syncwarden");
}
