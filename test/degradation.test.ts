import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterEach, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { CLI, gitConfig, runCli, Workspace, type CliResult } from "./helpers/workspace.js";

const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");

interface Result {
  status: string;
  degradation: string;
  phases: { name: string; completed: number }[];
}

/** Products, then their features, from the fault server; the provider gives up after 2 attempts. */
function shopConfig(url: string): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0 }
providers:
  api: { base_url: ${JSON.stringify(url)}, retry: { max_attempts: 2, base_delay: 0.01, max_delay: 0.02 } }
jobs:
  shop:
    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products, pagination: { style: page, size: 50 } }
      - name: features
        source: { type: http-json, provider: api, for_each: products, url: "/products/{id}/features" }
`;
}

/** What the last run of `job` says in history --json and in MCP sync_status (through the official SDK client). */
async function recorded(
  ws: Workspace,
  job: string,
): Promise<{ history: Result; mcp: { status: string; degradation: string } }> {
  const h = await runCli(["history", job, "--json"], { cwd: ws.dir });
  expect(h.code, h.stderr).toBe(0);
  const [last] = JSON.parse(h.stdout) as { status: string; result: Result }[];
  expect(last!.status).toBe(last!.result.status);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "mcp", "-c", ws.configFile],
    cwd: ws.dir,
    stderr: "pipe",
  });
  const client = new Client({ name: "degradation-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    const r = await client.callTool({ name: "sync_status", arguments: { job } });
    const jobs = (r.structuredContent as { jobs: { lastRun: { status: string; degradation: string } }[] })
      .jobs;
    return { history: last!.result, mcp: jobs[0]!.lastRun };
  } finally {
    await client.close();
  }
}

function parsed(r: CliResult): Result {
  return JSON.parse(r.stdout) as Result;
}

describe("degradation says what a run stored", () => {
  let ws: Workspace;
  let server: FaultServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    ws.cleanup();
  });

  it("14.9 a run whose source answers 500 until retries are exhausted stored nothing: degradation none in run --json, history and MCP sync_status", async () => {
    ws = new Workspace();
    server = await startFaultServer({ products: 5, script: () => ({ kind: "status", status: 500 }) });
    ws.write("syncwarden.yaml", shopConfig(server.url));
    const run = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(run.code, run.stderr).not.toBe(0);
    expect(parsed(run)).toMatchObject({ status: "failed", degradation: "none" });
    const { history, mcp } = await recorded(ws, "shop");
    expect(history).toMatchObject({ status: "failed", degradation: "none" });
    expect(mcp).toMatchObject({ status: "failed", degradation: "none" });
  });

  it("14.9 a run that failed after storing its first phase reports partial, never full", async () => {
    ws = new Workspace();
    server = await startFaultServer({
      products: 5,
      script: (req) => (req.path.includes("/features") ? { kind: "status", status: 500 } : undefined),
    });
    ws.write("syncwarden.yaml", shopConfig(server.url));
    const run = await runCli(["run", "--json"], { cwd: ws.dir });
    const result = parsed(run);
    expect(result).toMatchObject({ status: "failed", degradation: "partial" });
    expect(result.phases[0]).toMatchObject({ name: "products", completed: 5 });
    const { history, mcp } = await recorded(ws, "shop");
    expect(history).toMatchObject({ status: "failed", degradation: "partial" });
    expect(mcp).toMatchObject({ status: "failed", degradation: "partial" });
  });

  it("14.9 a run cancelled by SIGINT while listing stored nothing (none); one cancelled mid-way stored some (partial)", async () => {
    ws = new Workspace();
    // listing stalls: SIGINT arrives before anything is planned
    server = await startFaultServer({ products: 5, script: () => ({ kind: "stall", ms: 20_000 }) });
    ws.write("syncwarden.yaml", shopConfig(server.url));
    const stalled = await interrupt(ws, () => server!.stats.requests > 0);
    expect(stalled.code).toBe(130);
    expect(parsed(stalled)).toMatchObject({ status: "cancelled", degradation: "none" });
    expect((await recorded(ws, "shop")).history).toMatchObject({ status: "cancelled", degradation: "none" });

    // a git job through a slow sink: SIGINT once items are stored
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++) files[`f/${i}.txt`] = `file ${i}\n`;
    ws.commit(files);
    ws.write(
      "syncwarden.yaml",
      gitConfig({
        sink: `{ type: module, module: ${JSON.stringify(SINK)}, delay_ms: 20, log: calls.log, table: code }`,
      }),
    );
    const log = path.join(ws.dir, "calls.log");
    const lines = (): number => (existsSync(log) ? readFileSync(log, "utf8").split("\n").length : 0);
    const cancelled = await interrupt(ws, () => lines() > 20);
    expect(cancelled.code).toBe(130);
    const result = parsed(cancelled);
    expect(result).toMatchObject({ status: "cancelled", degradation: "partial" });
    expect(result.phases[0]!.completed).toBeGreaterThan(0);
    const { history, mcp } = await recorded(ws, "code");
    expect(history).toMatchObject({ status: "cancelled", degradation: "partial" });
    expect(mcp).toMatchObject({ status: "cancelled", degradation: "partial" });
  });
});

/** `run --json`, interrupted with SIGINT once `ready()` holds (polled, bounded). */
async function interrupt(ws: Workspace, ready: () => boolean): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, "run", "--json"], {
    cwd: ws.dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  const until = Date.now() + 30_000;
  while (!ready() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(ready()).toBe(true);
  child.kill("SIGINT");
  return done;
}
