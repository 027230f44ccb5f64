import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfigCached } from "../src/config/config-file.js";
import { ConfigError } from "../src/errors.js";

let dir: string;
let cache: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "syncwarden-cfgcache-"));
  cache = path.join(dir, "cache");
  file = path.join(dir, "syncwarden.yaml");
  writeFileSync(
    file,
    "state_dir: ./state\nreplicas:\n  r:\n    folder: ./a\n    targets:\n      - { name: b, path: ./b }\n",
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ SYNCWARDEN_CACHE_DIR: cache, ...extra });

/** Marks the cached configuration, so a load that returns the mark was served from the cache. */
function markCache(): void {
  const [entry] = readdirSync(cache);
  const p = path.join(cache, entry!);
  const c = JSON.parse(readFileSync(p, "utf8")) as { loaded: { stateDir: string } };
  c.loaded.stateDir = "/marked";
  writeFileSync(p, JSON.stringify(c));
}

describe("the validated-config cache", () => {
  it("serves an unchanged file from the cache, and loads it again when the file or its environment changes", async () => {
    const first = await loadConfigCached(file, env());
    expect(first.stateDir).toBe(path.join(dir, "state"));
    expect(first.config.replicas.r?.targets[0]).toMatchObject({
      name: "b",
      direction: "bidirectional",
      max_delete: 50,
    });
    expect(readdirSync(cache)).toHaveLength(1);
    markCache();
    expect((await loadConfigCached(file, env())).stateDir).toBe("/marked");
    // a configuration variable in the environment is part of the key
    expect((await loadConfigCached(file, env({ SYNC_MAX_WORKERS: "2" }))).config.sync.max_workers).toBe(2);
    markCache();
    expect((await loadConfigCached(file, env({ SYNC_MAX_WORKERS: "2" }))).stateDir).toBe("/marked");
    // so are the file's bytes
    writeFileSync(file, readFileSync(file, "utf8").replace("./state", "./other"));
    expect((await loadConfigCached(file, env({ SYNC_MAX_WORKERS: "2" }))).stateDir).toBe(
      path.join(dir, "other"),
    );
  });

  it("never caches an invalid file: its error names the file, line and key every time", async () => {
    await loadConfigCached(file, env());
    writeFileSync(file, "replicas:\n  r:\n    targets:\n      - { name: b, path: ./b, max_delete: 500 }\n");
    for (let i = 0; i < 2; i++) {
      const e = await loadConfigCached(file, env()).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as Error).message).toMatch(/syncwarden\.yaml:4:\d+: replicas\.r\.targets\[0\]\.max_delete/);
    }
  });

  it("is off with SYNCWARDEN_CACHE_DIR=off", async () => {
    const loaded = await loadConfigCached(file, env({ SYNCWARDEN_CACHE_DIR: "off" }));
    expect(loaded.stateDir).toBe(path.join(dir, "state"));
    expect(() => readdirSync(cache)).toThrow(/ENOENT/);
  });
});
