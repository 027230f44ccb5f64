import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { openServices } from "../src/service/open-services.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { faults, shopConfig as config } from "./helpers/metrics-shop.js";
import { parseExposition, total } from "./helpers/prometheus.js";
import { CLI, runCli, Workspace } from "./helpers/workspace.js";

const SECRET = "sw-metrics-secret-4f1c9a";

describe("Prometheus metrics", () => {
  let ws: Workspace;
  let server: FaultServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    ws.cleanup();
  });

  it("after a run with injected faults, the counters and gauges equal the ledger's counts; another process's run shows at the next scrape; no key or secret appears", async () => {
    ws = new Workspace();
    server = await startFaultServer({ products: 6 });
    faults(server);
    ws.write("syncwarden.yaml", config(server.url));
    const env = { SHOP_KEY: SECRET };
    // the in-process service reads the header's variable when it calls
    process.env.SHOP_KEY = SECRET;
    const loaded = loadConfig(ws.configFile);
    const services = openServices(loaded, { metrics: true });
    try {
      const result = await services.sync.execute({ job: "shop", trigger: "api" });
      expect(result.status, JSON.stringify(result)).toBe("partial");
      const text = (await services.metrics!.render()).body;
      const m = parseExposition(text);

      // items: what this process settled equals what the ledger holds (one run, from nothing)
      const [status] = await services.sync.status("shop");
      for (const phase of status!.phases) {
        const c = phase.items!;
        const at = { job: "shop", phase: phase.name };
        expect(total(m, "syncwarden_items_processed_total", { ...at, status: "completed" })).toBe(
          c.COMPLETED,
        );
        expect(total(m, "syncwarden_items_processed_total", { ...at, status: "dead" })).toBe(c.DEAD);
        for (const [s, n] of Object.entries(c))
          expect(
            total(m, "syncwarden_plan_items", { ...at, status: s.toLowerCase() }),
            `${phase.name} ${s}`,
          ).toBe(n);
      }
      const features = status!.phases[1]!.items!;
      expect(features.DEAD).toBeGreaterThan(0);
      expect(features.COMPLETED).toBeGreaterThan(0);
      expect(total(m, "syncwarden_queue_items", { job: "shop", state: "dead" })).toBe(features.DEAD);
      expect(total(m, "syncwarden_runs_total", { job: "shop", status: "partial" })).toBe(1);
      // (the parser keeps no labels of a histogram's samples: read its count from the registry)
      const duration = await services
        .metrics!.registry.getSingleMetric("syncwarden_run_duration_seconds")!
        .get();
      expect(
        duration.values.find(
          (v) => (v as { metricName?: string }).metricName === "syncwarden_run_duration_seconds_count",
        ),
      ).toMatchObject({
        labels: { job: "shop" },
        value: 1,
      });

      // retries and breaker transitions: what the events table recorded
      const events = await services.sync.eventLog({ limit: 10_000 });
      const retries = events.filter((e) => e.type === "resilience:retry").length;
      const transitions = events.filter((e) => e.type === "resilience:circuit").length;
      expect(retries).toBeGreaterThan(0);
      expect(transitions).toBeGreaterThan(0);
      expect(total(m, "syncwarden_retries_total", { class: "transient" })).toBe(retries);
      expect(total(m, "syncwarden_breaker_transitions_total", { provider: "embeddings" })).toBe(transitions);
      expect(total(m, "syncwarden_breaker_transitions_total", { provider: "embeddings", to: "open" })).toBe(
        events.filter((e) => e.type === "resilience:circuit" && e.message.includes("→ open")).length,
      );
      const embeddings = (await services.sync.providerHealth()).find((p) => p.provider === "embeddings");
      expect(total(m, "syncwarden_breaker_state", { provider: "embeddings" })).toBe(
        { closed: 0, half_open: 1, open: 2 }[embeddings!.breaker.state as "closed"],
      );
      expect(total(m, "syncwarden_last_success_timestamp_seconds", { job: "shop" })).toBe(0);
      expect(total(m, "syncwarden_ledger_size_bytes")).toBeGreaterThan(0);
      expect(m.get("process_resident_memory_bytes")?.type).toBe("GAUGE");

      // another process runs catalog: the gauges read at the next scrape show it, the counters do not
      server.setScript(undefined);
      const other = await runCli(["run", "catalog", "--json"], { cwd: ws.dir, env });
      expect(other.code, other.stderr).toBe(0);
      const again = parseExposition((await services.metrics!.render()).body);
      expect(total(again, "syncwarden_plan_items", { job: "catalog", status: "completed" })).toBe(6);
      expect(total(again, "syncwarden_last_success_timestamp_seconds", { job: "catalog" })).toBeGreaterThan(
        Date.now() / 1000 - 120,
      );
      expect(total(again, "syncwarden_runs_total", { job: "catalog" })).toBe(0);

      // `syncwarden metrics` in a process of its own: the same ledger gauges, no counters of its own
      const cli = await runCli(["metrics"], { cwd: ws.dir, env });
      expect(cli.code, cli.stderr).toBe(0);
      const printed = parseExposition(cli.stdout);
      for (const s of ["completed", "dead", "pending", "failed"])
        expect(total(printed, "syncwarden_plan_items", { job: "shop", phase: "features", status: s })).toBe(
          total(again, "syncwarden_plan_items", { job: "shop", phase: "features", status: s }),
        );
      expect(total(printed, "syncwarden_runs_total")).toBe(0);

      for (const out of [text, cli.stdout]) {
        expect(out).not.toContain(SECRET);
        expect(out).not.toContain(server.url);
        expect(out).not.toMatch(/\/products\/\d/);
        expect(out).not.toMatch(/key="/);
      }
    } finally {
      delete process.env.SHOP_KEY;
      await services.close();
    }
  }, 60_000);

  it("the daemon serves /metrics (bearer token off loopback) and runs doctor on health.interval, exporting each check", async () => {
    ws = new Workspace();
    server = await startFaultServer({ products: 3 });
    ws.write(
      "syncwarden.yaml",
      config(
        server.url,
        `    schedule: { every: 1h }\nhealth: { interval: 1s }\nmetrics: { port: 0, host: 0.0.0.0 }\n`,
      ),
    );
    // off loopback without a token: refused at start, naming the key
    const refused = await runCli(["daemon"], {
      cwd: ws.dir,
      env: { SHOP_KEY: SECRET, SYNCWARDEN_METRICS_TOKEN: "" },
    });
    expect(refused.code).toBe(78);
    expect(refused.stderr).toContain("metrics.host 0.0.0.0");

    const token = "metrics-token-77aa";
    const daemon = spawn(process.execPath, [CLI, "daemon"], {
      cwd: ws.dir,
      env: { ...process.env, SHOP_KEY: SECRET, SYNCWARDEN_METRICS_TOKEN: token },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    daemon.stderr.on("data", (b: Buffer) => (log += b.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!/metrics at http:\/\/[^:]+:(\d+)\/metrics/.test(log) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      const port = /metrics at http:\/\/[^:]+:(\d+)\/metrics/.exec(log)?.[1];
      expect(port, log).toBeDefined();
      const url = `http://127.0.0.1:${port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: "Bearer wrong-token-xxxxxxx" } })).status).toBe(
        401,
      );
      // the scheduled catalog run and at least two doctor passes (1 s apart), within generous bounds
      let m = parseExposition("");
      while (Date.now() < deadline) {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toContain("text/plain");
        m = parseExposition(await res.text());
        if (
          (log.match(/doctor: \d+\/\d+ checks ok/g) ?? []).length >= 2 &&
          total(m, "syncwarden_runs_total") >= 1
        )
          break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect((log.match(/doctor: \d+\/\d+ checks ok/g) ?? []).length, log).toBeGreaterThanOrEqual(2);
      expect(total(m, "syncwarden_runs_total", { job: "catalog", status: "completed" })).toBe(1);
      // the daemon reads its ledger's gauges on a worker thread: the same counts the ledger holds
      expect(
        total(m, "syncwarden_plan_items", { job: "catalog", phase: "products", status: "completed" }),
      ).toBe(3);
      expect(total(m, "syncwarden_queue_items", { job: "catalog", state: "pending" })).toBe(0);
      expect(total(m, "syncwarden_ledger_size_bytes")).toBeGreaterThan(0);
      const checks = m.get("syncwarden_doctor_check_status")?.metrics ?? [];
      expect(checks.map((c) => c.labels?.check)).toEqual(
        expect.arrayContaining(["disk", "database-integrity", "breakers"]),
      );
      for (const c of checks) expect(["0", "1", "2"]).toContain(c.value);
      expect(total(m, "syncwarden_doctor_check_status", { check: "database-integrity" })).toBe(0);
      expect(
        (await fetch(`http://127.0.0.1:${port}/other`, { headers: { authorization: `Bearer ${token}` } }))
          .status,
      ).toBe(404);
    } finally {
      daemon.kill("SIGTERM");
      await new Promise((r) => daemon.once("close", r));
    }
    expect(log).not.toContain(token);
  }, 60_000);
});
