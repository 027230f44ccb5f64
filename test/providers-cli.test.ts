import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { runCli, Workspace } from "./helpers/workspace.js";

function config(url: string, extra = ""): string {
  return `sync: { max_retries: 0, retry_wait_seconds: 0, max_workers: 2 }
providers:
  catalog:
    base_url: ${url}
    headers: { Authorization: "Bearer \${CATALOG_TOKEN}" }
    retry: { max_attempts: 3, base_delay: 0.01, max_delay: 0.02, budget: 2 }
    breaker: { failure_threshold: 2, timeout: 30 }
    timeout: 2${extra}
jobs:
  catalog:
    phases:
      - name: products
        source: { type: http-json, provider: catalog, url: "/products?key=hunter2", pagination: { style: cursor, size_param: limit, size: 4 } }
`;
}

describe("providers: configuration, breakers CLI, event log", () => {
  let ws: Workspace;
  let server: FaultServer;
  afterEach(async () => {
    await server.close();
    ws.cleanup();
  });

  it("syncs through a provider, logs [RETRY] and [CIRCUIT] lines without secrets, and manages breakers by hand", async () => {
    ws = new Workspace();
    server = await startFaultServer({ products: 10 });
    ws.write("syncwarden.yaml", config(server.url));
    const env = { CATALOG_TOKEN: "tok-abcdef123456" };
    const cli = (...args: string[]) => runCli(args, { cwd: ws.dir, env });

    const ok = await cli("run", "--json");
    expect(ok.code, ok.stderr).toBe(0);
    expect(ws.documents("catalog").size).toBe(10);

    // the API fails: retries, then the breaker opens; the run fails (the listing could not be made)
    server.setScript(() => ({ kind: "status", status: 503 }));
    const down = await cli("run", "--json", "-v");
    expect(down.code).toBe(1);
    const breakers = JSON.parse((await cli("breakers", "--json")).stdout) as {
      provider: string;
      breaker: { state: string };
    }[];
    expect(breakers.map((b) => [b.provider, b.breaker.state])).toEqual([["catalog", "open"]]);

    const db = ws.db();
    const lines = db
      .prepare<[], { message: string }>("SELECT message FROM events ORDER BY id")
      .all()
      .map((r) => r.message);
    db.close();
    expect(lines.some((l) => l.startsWith("[RETRY] catalog: "))).toBe(true);
    expect(lines.some((l) => l.startsWith("[CIRCUIT] catalog: closed → open"))).toBe(true);
    const all = lines.join("\n") + down.stderr + down.stdout;
    expect(all).not.toContain("hunter2");
    expect(all).not.toContain("tok-abcdef123456");

    expect((await cli("breakers", "reset", "catalog")).code).toBe(0);
    server.setScript(undefined);
    expect((await cli("run")).code).toBe(0);
    expect((await cli("breakers", "isolate", "catalog")).code).toBe(0);
    const isolated = JSON.parse((await cli("breakers", "--json")).stdout) as {
      breaker: { isolated: boolean };
    }[];
    expect(isolated[0]!.breaker.isolated).toBe(true);
    const status = await cli("status");
    expect(status.stdout).toContain("catalog: breaker open (isolated)");
    expect((await cli("breakers", "reset", "nope")).code).toBe(2);
  });

  it("rejects bad provider settings with file, line and key, and env overrides naming the variable", async () => {
    ws = new Workspace();
    server = await startFaultServer();
    ws.write("syncwarden.yaml", config(server.url, "\n    concurrency: 0"));
    const bad = await runCli(["run"], { cwd: ws.dir, env: { CATALOG_TOKEN: "x" } });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(/syncwarden\.yaml:9:\d+: providers\.catalog\.concurrency/);

    writeFileSync(ws.configFile, config(server.url));
    const env = await runCli(["run"], {
      cwd: ws.dir,
      env: { CATALOG_TOKEN: "x", CIRCUIT_BREAKER_FAILURE_THRESHOLD: "many" },
    });
    expect(env.code).toBe(78);
    expect(env.stderr).toContain("CIRCUIT_BREAKER_FAILURE_THRESHOLD");
    const missing = await runCli(["run"], { cwd: ws.dir, env: { CATALOG_TOKEN: "" } });
    expect(missing.code).toBe(0);
    const unset = await runCli(["run"], { cwd: ws.dir, env: { PATH: process.env.PATH ?? "" } });
    expect(unset.code).toBe(78);
    expect(unset.stderr).toContain("CATALOG_TOKEN is not set");
  });
});
