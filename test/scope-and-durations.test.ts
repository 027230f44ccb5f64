import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_TIMER_SECONDS } from "../src/config/durations.js";
import { loadConfig } from "../src/config/load-config.js";
import { isConfigError, isUsageError } from "../src/errors.js";
import { openServices } from "../src/service/open-services.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { gitConfig, runCli, Workspace } from "./helpers/workspace.js";

/** A fingerprint of the state folder's files: equal before and after means nothing was written. */
function stateFingerprint(ws: Workspace): string {
  const hash = createHash("sha256");
  for (const suffix of ["", "-wal"]) {
    const file = ws.dbFile + suffix;
    hash.update(
      `${suffix}:${existsSync(file) ? createHash("sha256").update(readFileSync(file)).digest("hex") : "none"}`,
    );
  }
  return hash.digest("hex");
}

function scopes(ws: Workspace): string[] {
  const db = ws.db();
  try {
    return db
      .prepare<[], { scope: string }>("SELECT scope FROM checkpoints ORDER BY scope")
      .all()
      .map((r) => r.scope);
  } finally {
    db.close();
  }
}

function shopConfig(url: string): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0 }
providers:
  api: { base_url: ${JSON.stringify(url)}, retry: { base_delay: 0.01 } }
jobs:
  shop:
    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products, version: updated_at, since: { param: since, field: updated_at } }
  plain:
    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products }
`;
}

/** The message loadConfig throws for a git config with `extra` YAML appended (or sync settings). */
function loadError(ws: Workspace, yaml: string, env: NodeJS.ProcessEnv = {}): string {
  const file = ws.write("syncwarden.yaml", yaml);
  try {
    loadConfig(file, env);
  } catch (e) {
    if (isConfigError(e)) return e.message.replaceAll(file, "FILE");
    throw e;
  }
  throw new Error(`accepted: ${yaml}`);
}

describe("scope and duration validation", () => {
  let ws: Workspace;
  let server: FaultServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    ws.cleanup();
  });

  it("14.8 run --since garbage on a git job exits 2 naming --since and a valid value, and writes nothing", async () => {
    ws = new Workspace();
    const first = ws.commit({ "a.md": "alpha" });
    ws.write("syncwarden.yaml", gitConfig());
    const bad = await runCli(["run", "--since", "garbage"], { cwd: ws.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since "garbage": not a commit of the git repository');
    expect(bad.stderr).toContain("(job code, phase files); give a commit that exists there");
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);

    // with a ledger in place, a bad --since changes nothing in it (no junk scoped checkpoint)
    expect((await runCli(["run"], { cwd: ws.dir })).code).toBe(0);
    const before = stateFingerprint(ws);
    const again = await runCli(["run", "--since", "garbage"], { cwd: ws.dir });
    expect(again.code).toBe(2);
    expect(stateFingerprint(ws)).toBe(before);
    expect(scopes(ws)).toEqual([""]);

    // a commit that exists is a scoped delta from it: only what changed since, the main checkpoint stays
    const second = ws.commit({ "b.md": "beta" });
    const scoped = await runCli(["run", "--since", first, "--json"], { cwd: ws.dir });
    expect(scoped.code, scoped.stderr).toBe(0);
    expect(JSON.parse(scoped.stdout)).toMatchObject({ phases: [{ total: 1, completed: 1 }] });
    expect(ws.checkpoint("code", "files")).toBe(first);
    expect(scopes(ws)).toEqual(["", `since=${first}`]);
    expect(second).not.toBe(first);
  });

  it("14.8 the library and MCP path: execute() refuses a since that is not a commit, before the lock or any checkpoint", async () => {
    ws = new Workspace();
    const first = ws.commit({ "a.md": "alpha" });
    ws.write("syncwarden.yaml", gitConfig());
    const services = openServices(loadConfig(ws.configFile, {}));
    try {
      const refused = services.sync.execute({ job: "code", trigger: "api", scope: { since: "garbage" } });
      await expect(refused).rejects.toThrow(/^since "garbage": not a commit of the git repository/);
      await expect(refused).rejects.toSatisfy(isUsageError);
      const ok = await services.sync.execute({ job: "code", trigger: "api", scope: { since: first } });
      expect(ok.status).toBe("completed");
    } finally {
      await services.close();
    }
    expect(scopes(ws)).toEqual([`since=${first}`]);
  });

  it("14.8 run --since on http-json takes an ISO time, a number or a duration back, and names the phase otherwise", async () => {
    ws = new Workspace();
    server = await startFaultServer({ products: 5 });
    ws.write("syncwarden.yaml", shopConfig(server.url));
    const bad = await runCli(["run", "shop", "--since", "last tuesday"], { cwd: ws.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      '--since "last tuesday": not a time for job shop, phase products (its API gets it as since=); give an ISO time',
    );
    const plain = await runCli(["run", "plain", "--since", "2026-11-01"], { cwd: ws.dir });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("no phase of job plain takes a since value");
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);
    expect(server.stats.requests).toBe(0);

    const iso = await runCli(["run", "shop", "--since", "2020-01-01T00:00:00Z"], { cwd: ws.dir });
    expect(iso.code, iso.stderr).toBe(0);
    const started = Date.now();
    const back = await runCli(["run", "shop", "--since", "7d"], { cwd: ws.dir });
    expect(back.code, back.stderr).toBe(0);
    const durationScope = scopes(ws).find(
      (s) => s.startsWith("since=") && s !== "since=2020-01-01T00:00:00Z",
    );
    expect(durationScope).toBeDefined();
    const sent = Date.parse(durationScope!.slice("since=".length));
    // 7 days before the run, give or take the run's own length
    expect(Math.abs(started - 7 * 86_400_000 - sent)).toBeLessThan(60_000);
  });

  it("14.8 lease_seconds 7000000 and 0.001 are refused with file:line, unit and bounds; no timer overflow, no state", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "alpha" });
    ws.write("syncwarden.yaml", gitConfig({ sync: { lease_seconds: 7000000 } }));
    const long = await runCli(["run"], { cwd: ws.dir });
    expect(long.code).toBe(78);
    expect(long.stderr).toContain(`syncwarden.yaml:1:`);
    expect(long.stderr).toContain(
      `sync.lease_seconds: 7000000 seconds is too long: must be at most ${MAX_TIMER_SECONDS}`,
    );
    expect(long.stderr).not.toContain("TimeoutOverflowWarning");
    ws.write("syncwarden.yaml", gitConfig({ sync: { lease_seconds: 0.001 } }));
    const short = await runCli(["run"], { cwd: ws.dir });
    expect(short.code).toBe(78);
    expect(short.stderr).toContain("sync.lease_seconds: 0.001 seconds is too short: must be at least 1");
    ws.write("syncwarden.yaml", gitConfig());
    const env = await runCli(["run"], { cwd: ws.dir, env: { SYNC_LEASE_SECONDS: "7000000" } });
    expect(env.code).toBe(78);
    expect(env.stderr).toContain(
      "environment variable SYNC_LEASE_SECONDS (sync.lease_seconds): 7000000 seconds is too long",
    );
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);
  });

  it("14.8 run --wait and daemon --grace beyond what a timer can wait exit 2 naming the flag, and write nothing", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "alpha" });
    ws.write("syncwarden.yaml", gitConfig());
    const wait = await runCli(["run", "--wait", "99999999"], { cwd: ws.dir });
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain(
      `--wait must be a number of seconds from 0 to ${MAX_TIMER_SECONDS}, got "99999999"`,
    );
    const grace = await runCli(["daemon", "--once", "--grace", "1e9"], { cwd: ws.dir });
    expect(grace.code).toBe(2);
    expect(grace.stderr).toContain(
      `--grace must be a number of seconds from 0 to ${MAX_TIMER_SECONDS}, got "1e9"`,
    );
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);
  });

  it("14.8 every duration key is bounded by what a timer can wait, with its unit, and schedules are checked on load", () => {
    ws = new Workspace();
    const tooLong = MAX_TIMER_SECONDS + 1;
    const provider = (block: string) =>
      `providers:\n  api:\n${block}\njobs:\n  code:\n    phases: [{ name: files, source: { type: git } }]\n`;
    const cases: [string, string][] = [
      [`sync: { retry_wait_seconds: ${tooLong} }\n` + provider("    timeout: 1"), "sync.retry_wait_seconds"],
      [
        `sync: { rate_limit_wait_seconds: ${tooLong} }\n` + provider("    timeout: 1"),
        "sync.rate_limit_wait_seconds",
      ],
      [provider(`    retry: { base_delay: ${tooLong} }`), "providers.api.retry.base_delay"],
      [provider(`    retry: { max_delay: ${tooLong} }`), "providers.api.retry.max_delay"],
      [provider(`    retry: { budget: ${tooLong} }`), "providers.api.retry.budget"],
      [provider(`    breaker: { timeout: ${tooLong} }`), "providers.api.breaker.timeout"],
      [provider(`    breaker: { max_timeout: ${tooLong} }`), "providers.api.breaker.max_timeout"],
      [
        provider(`    breaker: { failure_rate: { threshold: 0.5, window: ${tooLong} } }`),
        "providers.api.breaker.failure_rate.window",
      ],
      [provider(`    rate: { requests: 1, per_seconds: ${tooLong} }`), "providers.api.rate.per_seconds"],
      [provider(`    timeout: ${tooLong}`), "providers.api.timeout"],
    ];
    for (const [yaml, key] of cases) {
      expect(loadError(ws, yaml)).toMatch(
        new RegExp(
          `FILE:\\d+:\\d+: ${key.replaceAll(".", "\\.")}: ${tooLong} seconds is too long: must be at most ${MAX_TIMER_SECONDS}`,
        ),
      );
    }
    expect(loadError(ws, provider("    timeout: 0"))).toContain(
      "providers.api.timeout: 0 seconds is too short: must be more than 0",
    );
    expect(loadError(ws, provider("    retry: { base_delay: soon }"))).toContain(
      'providers.api.retry.base_delay: expected a number of seconds, got "soon"',
    );
    expect(
      loadError(
        ws,
        "jobs:\n  code:\n    schedule: { every: 10x }\n    phases: [{ name: files, source: { type: git } }]\n",
      ),
    ).toContain(
      'FILE:3:24: jobs.code.schedule.every: invalid interval "10x"; use a whole number with s, m, h or d',
    );
    expect(loadError(ws, gitConfig(), { RETRY_MAX_DELAY: String(tooLong) })).toContain(
      `environment variable RETRY_MAX_DELAY="${tooLong}": must be at most ${MAX_TIMER_SECONDS} seconds`,
    );
    // the bounds themselves are accepted
    const file = ws.write(
      "syncwarden.yaml",
      gitConfig({ sync: { lease_seconds: 1, retry_wait_seconds: MAX_TIMER_SECONDS } }),
    );
    expect(loadConfig(file, {}).config.sync).toMatchObject({
      lease_seconds: 1,
      retry_wait_seconds: MAX_TIMER_SECONDS,
    });
  });
});
