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
    breaker: { failure_threshold: 2, timeout: 60 }
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
    // each machine runs its own job through the one provider, at once: one failure each, and a threshold of 2
    await Promise.all([runCli(["run", "--no-wait"], a), runCli(["run", "--no-wait"], b)]);
    expect(server.stats.requests).toBe(2);

    const db = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await db.connect();
    try {
      // neither machine failed twice: the breaker counted both machines' failures together, and opened once
      const opened = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM events WHERE type = 'resilience:circuit' AND data->>'to' = 'open'`,
      );
      expect(opened.rows[0]!.n).toBe(1);
      const row = await db.query<{ state: string }>("SELECT state FROM breakers WHERE provider = 'api'");
      expect(row.rows).toEqual([{ state: "open" }]);
    } finally {
      await db.end();
    }
    // machine A's next run honours the breaker both share: it waits, and the server sees no call
    const again = spawn(process.execPath, [CLI, "run", "--no-wait"], {
      cwd: a.cwd,
      env: { ...process.env, ...a.env },
      stdio: "ignore",
    });
    children.push(again);
    await sleep(3_000);
    expect(server.stats.requests).toBe(2);
    const stopped = new Promise<number | null>((r) => again.on("exit", (code) => r(code)));
    again.kill("SIGTERM");
    await stopped;
    const status = await runCli(["breakers", "--json"], b);
    expect(status.stdout).toContain('"open"');
  });

  it("a rate gate shared by 3 workers keeps the server's limit, with no refusal", async () => {
    const { url } = await testPostgres();
    const schema = freshSchema();
    server = await startFaultServer({
      products: 60,
      rateLimit: { requests: 10, windowMs: 1000, aligned: true },
    });
    dir = mkdtempSync(path.join(tmpdir(), "syncwarden-gate-"));
    // every item calls the embeddings endpoint while it is processed, through one provider paced at 8/s (the
    // listing's one call fits beside it in the server's 10 per second); three workers with a bucket each
    // would send up to 24/s
    writeFileSync(
      path.join(dir, "syncwarden.yaml"),
      `sync: { max_retries: 2, retry_wait_seconds: 0, lease_seconds: 30 }
providers:
  api: { base_url: ${JSON.stringify(server.url)}, retry: { base_delay: 0.01 } }
  emb: { base_url: ${JSON.stringify(server.url + "/v1")}, rate: { requests: 8, per_seconds: 1, burst: 1 }, retry: { base_delay: 0.01 } }
jobs:
  shop:
    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products, pagination: { style: page, size: 100 } }
        enrich: [{ type: openai-embeddings, provider: emb, model: test-embed, batch_size: 1 }]
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
    const items = await db.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM items GROUP BY status",
    );
    // the other workers joined the plan beside its runner
    const joined = await db.query<{ n: number }>(
      `SELECT count(DISTINCT data->>'owner')::int AS n FROM events WHERE type = 'plan:joined'`,
    );
    await db.end();
    expect(items.rows).toEqual([{ status: "COMPLETED", n: 60 }]);
    expect(joined.rows[0]!.n).toBeGreaterThanOrEqual(1);
    // one call per item: the three workers together sent 60 embeddings calls, none refused
    expect(server.stats.byPath["/v1/embeddings"]).toBeGreaterThanOrEqual(60);
    // the joiners did work too, and nobody was refused: the limit held across the three processes
    expect(server.stats.rateLimited).toBe(0);
    const stopped = children.map((c) => new Promise<number | null>((r) => c.on("exit", (code) => r(code))));
    for (const c of children) c.kill("SIGTERM");
    expect(await Promise.all(stopped)).toEqual([0, 0, 0]);
  });
});
