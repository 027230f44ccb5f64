import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { openServices, type Services } from "../src/service/open-services.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { of, receiver, type Receiver } from "./helpers/webhook-receiver.js";
import { runCli, Workspace } from "./helpers/workspace.js";

const SECRET = "hook-secret-9b2e77";

function config(api: string, hook: string): string {
  return `sync: { max_retries: 0, retry_wait_seconds: 0 }
providers:
  api:
    base_url: ${JSON.stringify(api)}
    retry: { max_attempts: 3, base_delay: 0.01, max_delay: 0.02 }
    breaker: { failure_threshold: 3, success_threshold: 1, timeout: 60 }
jobs:
  shop:
    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products, pagination: { style: page, size: 50 } }
alerts:
  webhooks:
    - name: ops
      url: ${JSON.stringify(hook)}
      headers: { X-Secret: "\${HOOK_SECRET}" }
      events: [breaker_open, run_failed, run_partial, dead_items]
`;
}

describe("alerts", () => {
  let ws: Workspace;
  let api: FaultServer | undefined;
  let hook: Receiver | undefined;
  let services: Services | undefined;
  afterEach(async () => {
    await services?.close();
    services = undefined;
    await api?.close();
    await hook?.close();
    delete process.env.HOOK_SECRET;
    ws.cleanup();
  });

  it("one alert per condition and one resolution, none again after a restart, delivered later while the receiver is down, no secret in any payload", async () => {
    ws = new Workspace();
    api = await startFaultServer({ products: 3, script: () => ({ kind: "status", status: 500 }) });
    hook = await receiver();
    ws.write("syncwarden.yaml", config(api.url, hook.url));
    process.env.HOOK_SECRET = SECRET;
    const open = (): Services => openServices(loadConfig(ws.configFile));
    services = open();

    const failed = await services.sync.execute({ job: "shop", trigger: "api" });
    expect(failed.status).toBe("failed");
    await services.alerts.evaluate();
    await services.alerts.evaluate();
    expect(hook.got.map((r) => `${String(r.body.alert)} ${String(r.body.status)}`).sort()).toEqual([
      "breaker_open:api firing",
      "run_failed:shop firing",
    ]);
    const first = of(hook.got, "run_failed:shop", "firing")[0]!;
    expect(first.body).toMatchObject({ condition: "run_failed", status: "firing", details: { job: "shop" } });
    expect(Object.keys(first.body).sort()).toEqual([
      "alert",
      "at",
      "condition",
      "details",
      "status",
      "summary",
    ]);
    expect(first.headers["x-secret"]).toBe(SECRET);

    // a restart: the conditions still hold, nothing is sent again
    await services.close();
    services = open();
    await services.alerts.evaluate();
    expect(hook.got).toHaveLength(2);

    // the source recovers while the receiver is down: the resolutions wait, recorded as failed deliveries
    api.setScript(undefined);
    await services.sync.breaker("api", "reset");
    hook.down = true;
    const ok = await services.sync.execute({ job: "shop", trigger: "api" });
    expect(ok.status).toBe("completed");
    await services.alerts.evaluate();
    expect(hook.refused).toBeGreaterThan(0);
    expect(hook.got).toHaveLength(2);
    const log = await services.sync.eventLog({ limit: 1000 });
    expect(log.some((e) => e.type === "alert:failed" && e.message.includes("webhook ops"))).toBe(true);

    // the receiver is back: each resolution arrives once (a pass may find the webhook's own breaker open)
    hook.down = false;
    const deadline = Date.now() + 30_000;
    while (hook.got.length < 4 && Date.now() < deadline) {
      await services.alerts.evaluate();
      if (hook.got.length < 4) await new Promise((r) => setTimeout(r, 300));
    }
    await services.alerts.evaluate();
    for (const alert of ["run_failed:shop", "breaker_open:api"]) {
      expect(of(hook.got, alert, "firing"), alert).toHaveLength(1);
      expect(of(hook.got, alert, "resolved"), alert).toHaveLength(1);
    }
    expect(hook.got.map((r) => `${String(r.body.alert)} ${String(r.body.status)}`)).toHaveLength(4);
    for (const r of hook.got) expect(r.raw).not.toContain(SECRET);
    const sent = (await services.sync.eventLog({ limit: 1000 })).filter((e) => e.type === "alert:sent");
    expect(sent).toHaveLength(4);
    for (const e of await services.sync.eventLog({ limit: 1000 })) expect(e.message).not.toContain(SECRET);
  }, 60_000);

  it("alerts test sends a test alert and reports each webhook's answer", async () => {
    ws = new Workspace();
    api = await startFaultServer({ products: 1 });
    hook = await receiver();
    ws.write("syncwarden.yaml", config(api.url, hook.url));
    const env = { HOOK_SECRET: SECRET };
    const r = await runCli(["alerts", "test", "--json"], { cwd: ws.dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { webhook: "ops", ok: true, httpStatus: 204, message: "HTTP 204" },
    ]);
    expect(hook.got).toHaveLength(1);
    expect(hook.got[0]!.body).toMatchObject({ alert: "test", status: "firing", condition: "test" });
    expect(hook.got[0]!.raw).not.toContain(SECRET);

    hook.down = true;
    const down = await runCli(["alerts", "test"], { cwd: ws.dir, env });
    expect(down.code).toBe(3);
    expect(down.stdout).toMatch(/^ops: NOT delivered \(.*503/);

    const unknown = await runCli(["alerts", "test", "--webhook", "pager"], { cwd: ws.dir, env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no webhook named "pager"; webhooks: ops');
  }, 60_000);

  it("takes each webhook's own retries, breaker and timeout from the config, and names a bad one", async () => {
    ws = new Workspace();
    api = await startFaultServer({ products: 1 });
    hook = await receiver();
    const env = { HOOK_SECRET: SECRET };
    const withPolicy = (policy: string) =>
      config(api!.url, hook!.url).replace(
        "      events: [",
        `      retry: { max_attempts: 1, base_delay: 0.01 }
      breaker: { failure_threshold: 2, timeout: 600 }
      timeout: 5
${policy}      events: [`,
      );
    ws.write("syncwarden.yaml", withPolicy(""));
    hook.down = true;
    // one attempt per delivery (the default is 3): each refused test alert costs the receiver one request
    for (const expected of [1, 2]) {
      const r = await runCli(["alerts", "test"], { cwd: ws.dir, env });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout).toMatch(/^ops: NOT delivered \(.*503/);
      expect(hook.refused).toBe(expected);
    }
    // two failures opened the webhook's breaker, shared through the ledger with the next process: nothing is sent
    hook.down = false;
    const open = await runCli(["alerts", "test"], { cwd: ws.dir, env });
    expect(open.code).toBe(3);
    expect(open.stdout).toMatch(/^ops: NOT delivered \(alert-ops: circuit open until /);
    expect(hook.got).toHaveLength(0);
    expect(hook.refused).toBe(2);

    ws.write("syncwarden.yaml", withPolicy("").replace("max_attempts: 1", "max_attempts: 0"));
    const bad = await runCli(["alerts", "test"], { cwd: ws.dir, env });
    expect(bad.code).toBe(78);
    expect(bad.stderr).toMatch(
      /syncwarden\.yaml:\d+:\d+: alerts\.webhooks\[0\]\.retry\.max_attempts: 0 is too small/,
    );
    ws.write("syncwarden.yaml", withPolicy("      rate: { requests: 0, per_seconds: 1 }\n"));
    const badRate = await runCli(["alerts", "test"], { cwd: ws.dir, env });
    expect(badRate.code).toBe(78);
    expect(badRate.stderr).toMatch(/rate\.requests/);
  }, 60_000);
});
