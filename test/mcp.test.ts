import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { hostname } from "node:os";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult, Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import type { SyncService } from "../src/service/sync-service.js";
import type { SyncResult } from "../src/service/types.js";
import { caller, files, inMemory, textOf, type Call } from "./helpers/mcp-client.js";
import { CLI, gitConfig, Workspace } from "./helpers/workspace.js";

const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");

const TOOLS = [
  "cancel_sync",
  "doctor",
  "failed_items",
  "history",
  "isolate_breaker",
  "list_breakers",
  "list_jobs",
  "replica_status",
  "replicate",
  "reset_breaker",
  "retry_failed",
  "search",
  "sync_data",
  "sync_status",
];

/** Job `code` (schedule every 10m) through the slow sink, which logs each call to calls.log. */
function config(delayMs: number): string {
  const sink = `{ type: module, module: ${JSON.stringify(SINK)}, delay_ms: ${delayMs}, log: calls.log, poison: poison.txt }`;
  return gitConfig({ sink }).replace(
    "  code:\n",
    "  code:\n    description: the test repo\n    schedule: { every: 10m }\n",
  );
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const syncResult = (r: CallToolResult): SyncResult => r.structuredContent as unknown as SyncResult;
const calls = (ws: Workspace): string[] =>
  readFileSync(path.join(ws.dir, "calls.log"), "utf8").split("\n").filter(Boolean);

let ws: Workspace;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  ws.cleanup();
});

async function connect(): Promise<{ service: SyncService; client: Client; call: Call }> {
  const { services, client, call } = await inMemory(ws.configFile, cleanups);
  return { service: services.sync, client, call };
}

describe("MCP server over an in-memory client", { timeout: 20_000 }, () => {
  it("lists small tools and calls list_jobs, sync_data, sync_status, retry_failed", async () => {
    ws = new Workspace();
    const head = ws.commit(files("f", 20));
    ws.write("syncwarden.yaml", config(0));
    ws.write("poison.txt", "f3.md\n");
    const { client, call } = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
    for (const t of tools) {
      expect(JSON.stringify(t).length, t.name).toBeLessThan(2000);
      expect(t.outputSchema, t.name).toBeDefined();
    }

    const jobs = (await call("list_jobs")).structuredContent as { jobs: unknown[] };
    expect(jobs.jobs).toEqual([
      { name: "code", description: "the test repo", phases: ["files"], schedule: { every: "10m" } },
    ]);

    // a poisoned file goes DEAD: the run is partial and the checkpoint waits
    const first = syncResult(await call("sync_data", { job: "code", wait: true }));
    expect(first.status).toBe("partial");
    expect(first.phases[0]).toMatchObject({ completed: 19, dead: 1, checkpoint: null });

    // retry_failed requeues it; the next sync_data completes and moves the checkpoint to HEAD
    rmSync(path.join(ws.dir, "poison.txt"));
    const retried = (await call("retry_failed", { job: "code", include_dead: true, pay_debts: true }))
      .structuredContent as { requeued: number; debts: unknown[] };
    expect(retried).toEqual({
      requeued: 1,
      debts: [{ job: "code", paid: 0, remaining: 0, stillDown: [] }],
    });
    const second = await call("sync_data", { job: "code", wait: true });
    expect(syncResult(second).status).toBe("completed");
    expect(textOf(second)).toContain("code: completed");
    expect(ws.documents("code").size).toBe(20);

    const status = (await call("sync_status", { job: "code" })).structuredContent as {
      jobs: Record<string, unknown>[];
      providers: unknown[];
    };
    const job = status.jobs[0]!;
    expect(job).toMatchObject({ job: "code", documents: 20, debts: 0, running: null });
    expect((job.phases as { checkpoint: string }[])[0]!.checkpoint).toBe(head);
    expect(Date.parse(job.nextRun as string) - Date.parse(job.lastSuccess as string)).toBe(600_000);
    expect(status.providers).toEqual([]);

    for (const [tool, args] of [
      ["sync_data", { job: "nope" }],
      ["sync_status", { job: "nope" }],
      ["retry_failed", { job: "nope" }],
    ] as const) {
      const r = await call(tool, args);
      expect(r.isError, tool).toBe(true);
      expect(textOf(r)).toBe('unknown job "nope"; valid jobs: code');
    }
  });

  it("sends progress notifications while it waits; cancel_sync leaves the ledger resumable", async () => {
    ws = new Workspace();
    ws.commit(files("f", 300));
    ws.write("syncwarden.yaml", config(10));
    const { service, call } = await connect();
    const statuses: string[] = [];
    service.on((e) => e.type === "run:end" && statuses.push(e.result.status));

    const seen: Progress[] = [];
    const done = await call("sync_data", { job: "code", wait: true }, { onprogress: (p) => seen.push(p) });
    expect(syncResult(done).status).toBe("completed");
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.every((p, i) => p.total === 300 && (i === 0 || p.progress > seen[i - 1]!.progress))).toBe(
      true,
    );

    // cancel the next run part-way through: cancel_sync's abort reaches the engine
    const head = ws.commit(files("g", 300));
    const started = syncResult(await call("sync_data", { job: "code" }));
    expect(started.status).toBe("started");
    await until(() => (service.running("code")?.completed ?? 0) >= 20, "20 items of the second run");
    const cancelled = syncResult(await call("cancel_sync", { run_id: started.runId }));
    expect(cancelled).toMatchObject({ runId: started.runId, status: "cancelled" });
    const resumed = syncResult(await call("sync_data", { job: "code", wait: true, lock_wait_seconds: 15 }));
    expect(statuses).toEqual(["completed", "cancelled", "completed"]);
    expect(resumed.status).toBe("completed");
    expect(resumed.phases[0]!.checkpoint).toBe(head);
    expect(ws.documents("code").size).toBe(600);
    // every file reached the sink exactly once across the three runs
    const keys = calls(ws).map((l) => l.split("\t")[2]!);
    expect(keys.length).toBe(600);
    expect(new Set(keys).size).toBe(600);
  });

  it("a locked job returns isError naming the holder, in this process and in another", async () => {
    ws = new Workspace();
    ws.commit(files("f", 200));
    ws.write("syncwarden.yaml", config(20));
    const { service, call } = await connect();

    const first = call("sync_data", { job: "code", wait: true });
    await until(() => service.running("code") !== undefined, "the first run");
    const busy = await call("sync_data", { job: "code" });
    expect(busy.isError).toBe(true);
    expect(textOf(busy)).toMatch(
      new RegExp(`^code is being synced by this process \\(pid ${process.pid}\\); retry when it finishes`),
    );
    expect(busy._meta?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(syncResult(await first).status).toBe("completed");

    ws.commit(files("g", 200));
    const cli = spawn(process.execPath, [CLI, "run"], { cwd: ws.dir, stdio: "ignore" });
    const exited = new Promise<number | null>((r) => cli.on("close", r));
    cleanups.push(() => void cli.kill("SIGKILL"));
    await until(() => calls(ws).some((l) => l.startsWith(`${cli.pid!}\t`)), "the CLI run");
    const other = await call("sync_data", { job: "code" });
    expect(other.isError).toBe(true);
    expect(textOf(other)).toContain(`code is being synced by pid ${cli.pid!} on ${hostname()} since`);
    expect(other._meta?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(await exited).toBe(0);
  });
});

function launch(
  args: string[],
  env: Record<string, string | undefined>,
): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, "mcp", "-c", ws.configFile, ...args], {
    cwd: ws.dir,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((r) => child.on("close", r));
  cleanups.push(() => void child.kill("SIGKILL"));
  return { child, stderr: () => stderr, exited };
}

const INIT = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

/** A raw initialize POST to /mcp with chosen headers (node:http lets a test set Host). */
function post(
  port: number,
  headers: Record<string, string>,
): Promise<{ status: number; body: string; auth: string | undefined }> {
  headers = { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers };
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/mcp", method: "POST", headers }, (res) => {
      let body = "";
      res.on("data", (b: Buffer) => (body += b.toString()));
      const status = res.statusCode ?? 0;
      if (status === 200) res.destroy(); // an SSE stream: the status is all we need
      res.on("close", () => resolve({ status, body, auth: res.headers["www-authenticate"] }));
    });
    req.on("error", reject);
    req.end(INIT);
  });
}

describe("syncwarden mcp as a child process", { timeout: 20_000 }, () => {
  it("stdio: answers initialize, tools/list and sync_data; exits when stdin closes", async () => {
    ws = new Workspace();
    ws.commit(files("f", 30));
    ws.write("syncwarden.yaml", config(0));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "mcp", "-c", ws.configFile],
      cwd: ws.dir,
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    const client = new Client({ name: "stdio-test", version: "1.0.0" });
    const errors: Error[] = [];
    client.onerror = (e) => errors.push(e);
    await client.connect(transport);
    expect(client.getServerVersion()?.name).toBe("syncwarden");
    expect((await client.listTools()).tools).toHaveLength(TOOLS.length);
    const result = syncResult(await caller(client)("sync_data", { job: "code", wait: true }));
    expect(result.status).toBe("completed");
    expect(ws.documents("code").size).toBe(30);
    await client.close();
    await until(() => stderr.includes("syncwarden mcp: stopped"), "the server to stop", 5000);
    expect(stderr).toContain("stopping: stdin closed");
    expect(stderr).toContain("code: completed");
    expect(errors).toEqual([]); // stdout carried nothing but protocol messages
  });

  it("HTTP: 127.0.0.1 only, bearer token required, foreign Host and Origin refused", async () => {
    ws = new Workspace();
    ws.commit(files("f", 10));
    ws.write("syncwarden.yaml", config(0));
    const token = "test-token-0123456789";
    const server = launch(["--http", "0"], { ...process.env, SYNCWARDEN_MCP_TOKEN: token });
    await until(
      () => /listening on http:\/\/127\.0\.0\.1:\d+\/mcp/.test(server.stderr()),
      "the listening line",
    );
    const url = /listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp)/.exec(server.stderr())!;
    const port = Number(url[2]);
    expect(server.stderr()).not.toContain(token);

    const none = await post(port, {});
    expect(none.status).toBe(401);
    expect(none.auth).toContain("Bearer");
    expect((JSON.parse(none.body) as { error: { message: string } }).error.message).toMatch(/bearer token/);
    expect((await post(port, { authorization: "Bearer wrong" })).status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    expect((await post(port, { ...auth, host: `evil.example:${port}` })).status).toBe(403);
    expect((await post(port, { ...auth, origin: "http://evil.example" })).status).toBe(403);
    expect((await post(port, { ...auth, host: `localhost:${port}` })).status).toBe(200);

    const client = new Client({ name: "http-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(url[1]!), { requestInit: { headers: auth } }),
    );
    expect((await client.listTools()).tools.map((t) => t.name)).toContain("sync_data");
    const result = await caller(client)("sync_data", { job: "code", wait: true });
    expect(syncResult(result).status).toBe("completed");
    expect(ws.documents("code").size).toBe(10);
    await client.close();
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toContain("syncwarden mcp: stopped");

    // without SYNCWARDEN_MCP_TOKEN a token is generated and printed once to stderr
    const env = { ...process.env };
    delete env.SYNCWARDEN_MCP_TOKEN;
    const generated = launch(["--http", "0"], env);
    const printed = /:(\d+)\/mcp[\s\S]*syncwarden mcp: token (\S+)/;
    await until(() => printed.test(generated.stderr()), "the generated token");
    const [, port2, made] = printed.exec(generated.stderr())!;
    expect(generated.stderr().split(made!).length - 1).toBe(1);
    expect((await post(Number(port2), {})).status).toBe(401);
    expect((await post(Number(port2), { authorization: `Bearer ${made!}` })).status).toBe(200);
    generated.child.kill("SIGTERM");
    expect(await generated.exited).toBe(0);
  });
});
