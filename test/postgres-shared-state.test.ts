import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { freshSchema, testPostgres } from "./helpers/postgres.js";
import { CLI, runCli } from "./helpers/workspace.js";

afterAll(async () => (await testPostgres()).stop());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("state shared through one PostgreSQL ledger", () => {
  let dir: string;
  let server: FaultServer | undefined;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill("SIGKILL");
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("two machines (two state folders, two host names) share one breaker: it opens once for both", async () => {
    const { url } = await testPostgres();
    const schema = freshSchema();
    server = await startFaultServer({ script: () => ({ kind: "status", status: 503 }) });
    dir = mkdtempSync(path.join(tmpdir(), "syncwarden-machines-"));
    const machine = (name: string): { cwd: string; env: Record<string, string> } => {
      const cwd = path.join(dir, name);
      mkdirSync(cwd);
      writeFileSync(
        path.join(cwd, "syncwarden.yaml"),
        `sync: { max_retries: 0, retry_wait_seconds: 0 }
providers:
  api:
    base_url: ${JSON.stringify(server!.url)}
    retry: { max_attempts: 1 }
    breaker: { failure_threshold: 3, timeout: 60 }
jobs:
  ${name}:
    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products, pagination: { style: page, size: 4 } }
`,
      );
      return {
        cwd,
        env: { SYNCWARDEN_DATABASE_URL: url, SYNCWARDEN_DATABASE_SCHEMA: schema, SYNCWARDEN_HOST: name },
      };
    };
    const a = machine("machine-a");
    const b = machine("machine-b");
    // each machine runs its own job through the one provider, three times over, at once
    for (let round = 0; round < 3; round++)
      await Promise.all([runCli(["run", "--no-wait"], a), runCli(["run", "--no-wait"], b)]);

    const db = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await db.connect();
    try {
      const opened = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events WHERE type = 'breaker:transition' AND data->>'to' = 'open'`,
      );
      expect(opened.rows[0]!.n).toBe(1);
      const row = await db.query<{ state: string }>("SELECT state FROM breakers WHERE provider = 'api'");
      expect(row.rows).toEqual([{ state: "open" }]);
    } finally {
      await db.end();
    }
    // the third failure opened it for both machines: later runs on either never reached the server
    expect(server.stats.requests).toBeLessThanOrEqual(4);
    const status = await runCli(["breakers", "--json"], b);
    expect(status.stdout).toContain('"open"');
  });

  it("a rate gate shared by 3 workers keeps the server's limit, with no refusal", async () => {
    const { url } = await testPostgres();
    const schema = freshSchema();
    server = await startFaultServer({
      products: 40,
      featuresPerProduct: 1,
      rateLimit: { requests: 10, windowMs: 1000, aligned: true },
    });
    dir = mkdtempSync(path.join(tmpdir(), "syncwarden-gate-"));
    writeFileSync(
      path.join(dir, "syncwarden.yaml"),
      `sync: { max_retries: 2, retry_wait_seconds: 0, lease_seconds: 30 }
providers:
  api: { base_url: ${JSON.stringify(server.url)}, rate: { requests: 10, per_seconds: 1, burst: 1 }, retry: { base_delay: 0.01 } }
jobs:
  shop:
    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products, pagination: { style: page, size: 40 } }
      - name: features
        source: { type: http-json, provider: api, for_each: products, url: "/products/{id}/features", pagination: { style: page, size: 10 } }
`,
    );
    const env = { ...process.env, SYNCWARDEN_DATABASE_URL: url, SYNCWARDEN_DATABASE_SCHEMA: schema };
    for (let i = 0; i < 3; i++)
      children.push(
        spawn(process.execPath, [CLI, "worker", "--concurrency", "4", "--poll", "0.2"], {
          cwd: dir,
          env,
          stdio: "ignore",
        }),
      );
    const db = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await db.connect();
    let done = false;
    const deadline = Date.now() + 120_000;
    while (!done && Date.now() < deadline) {
      await sleep(500);
      try {
        const r = await db.query<{ status: string | null }>(
          "SELECT status FROM runs ORDER BY started_at LIMIT 1",
        );
        done = r.rows[0]?.status === "completed";
      } catch {
        /* the schema is not there yet */
      }
    }
    expect(done).toBe(true);
    const features = await db.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM items WHERE phase = 'features' GROUP BY status",
    );
    await db.end();
    expect(features.rows).toEqual([{ status: "COMPLETED", n: 40 }]);
    // the joiners did work too, and nobody was refused: the limit held across the three processes
    expect(server.stats.requests).toBeGreaterThanOrEqual(41);
    expect(server.stats.rateLimited).toBe(0);
    const stopped = children.map((c) => new Promise<number | null>((r) => c.on("exit", (code) => r(code))));
    for (const c of children) c.kill("SIGTERM");
    expect(await Promise.all(stopped)).toEqual([0, 0, 0]);
  });
});
