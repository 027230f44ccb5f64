import { afterAll, afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { openServices } from "../src/service/open-services.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { faults, shopConfig } from "./helpers/metrics-shop.js";
import { dropSchema, freshSchema, testPostgres } from "./helpers/postgres.js";
import { parseExposition, total } from "./helpers/prometheus.js";
import { runCli, Workspace } from "./helpers/workspace.js";

afterAll(async () => (await testPostgres()).stop());

const KEY = "pg-metrics-key-5d1e";
const STATUSES = ["pending", "processing", "completed", "skipped", "failed", "dead"];

describe("Prometheus metrics on a PostgreSQL ledger", () => {
  let ws: Workspace;
  let server: FaultServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    ws.cleanup();
  });

  it("a scrape shows what other workers' runs left in the shared ledger: items, queues, breakers, debts, last success, size", async () => {
    const { url } = await testPostgres();
    const schema = freshSchema();
    ws = new Workspace();
    server = await startFaultServer({ products: 6 });
    faults(server);
    // the embeddings step degrades: items its breaker refuses are stored raw and owed
    ws.write(
      "syncwarden.yaml",
      shopConfig(server.url).replace("batch_size: 1 }", "batch_size: 1, degradable: true }"),
    );
    const env = { SHOP_KEY: KEY, SYNCWARDEN_DATABASE_URL: url, SYNCWARDEN_DATABASE_SCHEMA: schema };
    try {
      // two worker processes, one job each, neither of them the scraper
      const shop = await runCli(["run", "shop", "--json"], { cwd: ws.dir, env });
      // completed, but with items stored raw (exit 3): the embeddings are owed
      expect(shop.code, shop.stderr).toBe(3);
      expect(JSON.parse(shop.stdout)).toMatchObject({ status: "completed", degradation: "raw_only" });
      const catalog = await runCli(["run", "catalog", "--json"], { cwd: ws.dir, env });
      expect(catalog.code, catalog.stderr).toBe(0);

      // secrets are read from the process's environment when a call is made, never kept in the loaded config
      process.env.SHOP_KEY = KEY;
      const services = openServices(loadConfig(ws.configFile, { ...process.env, ...env }), { metrics: true });
      try {
        const m = parseExposition((await services.metrics!.render()).body);
        for (const st of await services.sync.status())
          for (const phase of st.phases)
            for (const s of STATUSES)
              expect(
                total(m, "syncwarden_plan_items", { job: st.job, phase: phase.name, status: s }),
                `${st.job}/${phase.name} ${s}`,
              ).toBe(phase.items![s.toUpperCase() as "PENDING"]);
        expect(total(m, "syncwarden_plan_items", { job: "catalog", status: "completed" })).toBe(6);

        const dead = await services.sync.items("shop", { statuses: ["DEAD"], limit: 1000 });
        expect(total(m, "syncwarden_queue_items", { job: "shop", state: "dead" })).toBe(dead.length);
        const debts = await services.sync.debts("shop", 1000);
        expect(debts.length).toBeGreaterThan(0);
        expect(total(m, "syncwarden_debts_outstanding", { job: "shop" })).toBe(debts.length);
        // the breaker the first worker tripped lives in the ledger: the scrape reads its state from there
        const embeddings = (await services.sync.providerHealth()).find((p) => p.provider === "embeddings")!;
        expect(embeddings.breaker.state).not.toBe("never used");
        expect(total(m, "syncwarden_breaker_state", { provider: "embeddings" })).toBe(
          { closed: 0, half_open: 1, open: 2 }[embeddings.breaker.state as "closed"],
        );
        expect(m.get("syncwarden_breaker_state")?.metrics.map((s) => s.labels?.provider)).toContain(
          "embeddings",
        );
        expect(total(m, "syncwarden_last_success_timestamp_seconds", { job: "catalog" })).toBeGreaterThan(
          Date.now() / 1000 - 300,
        );
        const successes = m.get("syncwarden_last_success_timestamp_seconds")?.metrics ?? [];
        expect(successes.map((s) => s.labels?.job).sort()).toEqual(["catalog", "shop"]);
        expect(total(m, "syncwarden_ledger_size_bytes")).toBeGreaterThan(0);
        // counters are this process's own: it ran nothing yet
        expect(total(m, "syncwarden_runs_total")).toBe(0);

        // this process runs catalog: its counter counts it, the gauges still read the ledger
        const mine = await services.sync.execute({ job: "catalog", trigger: "api" });
        expect(mine.status).toBe("completed");
        const after = parseExposition((await services.metrics!.render()).body);
        expect(total(after, "syncwarden_runs_total", { job: "catalog", status: "completed" })).toBe(1);
        expect(total(after, "syncwarden_queue_items", { job: "shop", state: "dead" })).toBe(dead.length);

        // `syncwarden metrics` in a third process prints the same ledger gauges
        const printed = await runCli(["metrics"], { cwd: ws.dir, env });
        expect(printed.code, printed.stderr).toBe(0);
        const p = parseExposition(printed.stdout);
        for (const s of STATUSES)
          expect(total(p, "syncwarden_plan_items", { job: "shop", phase: "features", status: s }), s).toBe(
            total(after, "syncwarden_plan_items", { job: "shop", phase: "features", status: s }),
          );
        expect(total(p, "syncwarden_debts_outstanding", { job: "shop" })).toBe(debts.length);
        expect(total(p, "syncwarden_runs_total")).toBe(0);
        for (const out of [printed.stdout, (await services.metrics!.render()).body]) {
          expect(out).not.toContain(KEY);
          expect(out).not.toContain(url);
          expect(out).not.toContain(server.url);
        }
      } finally {
        await services.close();
      }
    } finally {
      delete process.env.SHOP_KEY;
      await dropSchema(url, schema);
    }
  }, 120_000);
});
