import { afterEach, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { runCli, Workspace } from "./helpers/workspace.js";

function config(url: string): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0 }
providers:
  testio: { base_url: ${JSON.stringify(url)}, retry: { base_delay: 0.01 } }
jobs:
  testio:
    phases:
      - name: products
        source: { type: http-json, provider: testio, url: /products, version: updated_at, since: { param: since, field: updated_at } }
      - name: features
        source: { type: http-json, provider: testio, for_each: products, url: "/products/{id}/features", version: updated_at }
      - name: tests
        incremental: false
        source: { type: http-json, provider: testio, for_each: features, url: "/features/{id}/tests", version: updated_at }
`;
}

interface Phase {
  name: string;
  total: number;
  completed: number;
  skipped: number;
  checkpoint: string | null;
}
interface Result {
  status: string;
  durationSeconds: number;
  phasesCompleted: number;
  phases: Phase[];
}

describe("run modes on a three-phase job (products → features → tests)", () => {
  let ws: Workspace;
  let server: FaultServer;
  afterEach(async () => {
    await server.close();
    ws.cleanup();
  });

  it("phases, incremental-only, scoped ids and since, force, nuke, history and events", async () => {
    ws = new Workspace();
    server = await startFaultServer({ products: 6, featuresPerProduct: 3, testsPerFeature: 4 });
    ws.write("syncwarden.yaml", config(server.url));
    const run = async (
      ...args: string[]
    ): Promise<{ code: number | null; result: Result; stderr: string }> => {
      const r = await runCli(["run", "--json", ...args], { cwd: ws.dir });
      return { code: r.code, result: JSON.parse(r.stdout || "null") as Result, stderr: r.stderr };
    };
    const count = (collection: string): number => ws.documents("testio", collection).size;
    const newest = server.data.products
      .map((p) => p.updated_at)
      .sort()
      .at(-1)!;

    // --phase: only products
    const only = await run("--phase", "products");
    expect(only.code).toBe(0);
    expect(only.result.phases.map((p) => p.name)).toEqual(["products"]);
    expect([count("products"), count("features"), count("tests")]).toEqual([6, 0, 0]);
    expect(ws.checkpoint("testio", "products")).toBe(newest);

    // --incremental-only skips the tests phase (incremental: false)
    const inc = await run("--incremental-only");
    expect(inc.result.phases.map((p) => p.name)).toEqual(["products", "features"]);
    expect(inc.result.phases[0]).toMatchObject({ total: 0 });
    expect([count("features"), count("tests")]).toEqual([18, 0]);

    // a plain run does everything left
    const full = await run();
    expect(full.code, full.stderr).toBe(0);
    expect(full.result).toMatchObject({ status: "completed", phasesCompleted: 3 });
    expect(full.result.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(full.stderr).toMatch(/testio: completed in [\d.]+s: /);
    expect(count("tests")).toBe(72);

    // scoped --ids: only those keys, under their own checkpoint; the main checkpoint stays
    server.touchProduct(2);
    server.touchProduct(5);
    const ids = await run("--phase", "products", "--ids", "2,3");
    expect(ids.result.phases[0]).toMatchObject({ total: 2, completed: 1, skipped: 1 });
    expect(ws.checkpoint("testio", "products")).toBe(newest);
    // scoped --since: only products changed after it, main checkpoint still unmoved
    const since = await run("--phase", "products", "--since", newest);
    expect(since.result.phases[0]).toMatchObject({ total: 2, completed: 1, skipped: 1 });
    expect(ws.checkpoint("testio", "products")).toBe(newest);
    // the next unscoped run picks the change up from the main checkpoint
    const next = await run("--phase", "products");
    expect(next.result.phases[0]).toMatchObject({ total: 2 });
    expect(ws.checkpoint("testio", "products")).not.toBe(newest);

    // --force reprocesses everything in scope
    const forced = await run("--force", "--phase", "features");
    expect(forced.result.phases[0]).toMatchObject({ total: 18, completed: 18, skipped: 0 });

    // --nuke needs --yes without a terminal, and deletes nothing when refused
    const refused = await runCli(["run", "--nuke"], { cwd: ws.dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("Current data: 6 products, 18 features, 72 tests");
    expect(count("tests")).toBe(72);
    const nuked = await run("--nuke", "--yes");
    expect(nuked.code).toBe(0);
    expect(nuked.result.phases.map((p) => p.completed)).toEqual([6, 18, 72]);
    expect([count("products"), count("features"), count("tests")]).toEqual([6, 18, 72]);

    const history = JSON.parse((await runCli(["history", "--json"], { cwd: ws.dir })).stdout) as {
      status: string;
      trigger: string;
    }[];
    expect(history).toHaveLength(8);
    expect(history.every((h) => h.trigger === "cli" && h.status === "completed")).toBe(true);
    const events = JSON.parse(
      (await runCli(["events", "testio", "--since", "1h", "--json"], { cwd: ws.dir })).stdout,
    ) as { type: string; message: string }[];
    expect(events.some((e) => e.type === "nuke")).toBe(true);
    expect(
      events.filter((e) => e.type === "run:end").every((e) => /^Sync completed in [\d.]+s/.test(e.message)),
    ).toBe(true);
  });
});
