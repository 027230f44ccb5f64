import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { startListening as start } from "./helpers/listening-cli.js";
import { runCli, Workspace } from "./helpers/workspace.js";

const SEEN_MS = 20_000;

// a sink that refuses every change: with max_retries 0 its items end DEAD at once
const REFUSING_SINK = `export default function refusing() {
  return { type: "refusing", apply: async () => { throw new Error("refused by the test sink"); } };
}
`;

function config(o: { files: number; refuse?: boolean; schedule?: boolean }): string {
  return `sync: { max_retries: 0, retry_wait_seconds: 0, max_workers: 4 }
jobs:
  notes:
${o.schedule ? "    schedule: { every: 1h }\n" : ""}    phases:
      - name: files
        source: { type: git, repo: ./repo }
        sink: ${o.refuse ? "{ type: module, module: ./refusing-sink.mjs }" : "{ type: sqlite-docs, table: notes }"}
`;
}

function get(
  url: string,
  token: string | undefined,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } },
      (res) => {
        let body = "";
        res.on("data", (b: Buffer) => (body += b.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function json<T>(url: string, token: string): Promise<T> {
  const res = await get(url, token);
  expect(res.status, res.body).toBe(200);
  return JSON.parse(res.body) as T;
}

interface State {
  jobs: { job: string; dead: number; lastRun: { status: string | null } | null }[];
}

describe("syncwarden serve and daemon --web-port", () => {
  let ws: Workspace;
  const children: ChildProcessWithoutNullStreams[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
    ws.cleanup();
  });

  it("serve: prints a generated token once, shows a run made by another process from the ledger, stops on SIGTERM", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "alpha", "b.md": "beta" });
    ws.write("syncwarden.yaml", config({ files: 2 }));
    const s = await start(["serve", "--port", "0"], ws.dir, {
      SYNCWARDEN_WEB_TOKEN: "",
      SYNCWARDEN_MCP_TOKEN: "",
    });
    children.push(s.child);
    const token = /\?token=([A-Za-z0-9_-]+)/.exec(s.stderr())?.[1];
    expect(token, s.stderr()).toBeDefined();
    expect((await get(`${s.url}api/state`, undefined)).status).toBe(401);
    const before = await json<State>(`${s.url}api/state`, token!);
    expect(before.jobs.map((j) => j.job)).toEqual(["notes"]);
    expect(before.jobs[0]!.lastRun).toBeNull();

    const run = await runCli(["run"], { cwd: ws.dir });
    expect(run.code, run.stderr).toBe(0);
    const after = await json<State>(`${s.url}api/state`, token!);
    expect(after.jobs[0]!.lastRun?.status).toBe("completed");
    // the Prometheus metrics behind the same token, with the other process's run read from the ledger
    expect((await get(`${s.url}metrics`, undefined)).status).toBe(401);
    const metrics = await get(`${s.url}metrics`, token);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^syncwarden_last_success_timestamp_seconds\{job="notes"\} \d+/m);

    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    // the token appears in the one line that offers it, nowhere else
    expect(s.stderr().split(token!).length - 1).toBe(1);
  }, 60_000);

  it("pages failed and dead items by id (never all at once) and refuses a page size out of range", async () => {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 120; i++) files[`n-${i}.md`] = `note ${i}`;
    ws.commit(files);
    ws.write("refusing-sink.mjs", REFUSING_SINK);
    ws.write("syncwarden.yaml", config({ files: 120, refuse: true }));
    const run = await runCli(["run"], { cwd: ws.dir });
    expect(run.code, run.stderr).toBe(3);
    const token = "paging-token";
    const s = await start(["serve", "--port", "0"], ws.dir, { SYNCWARDEN_WEB_TOKEN: token });
    children.push(s.child);
    const state = await json<State>(`${s.url}api/state`, token);
    expect(state.jobs[0]!.dead).toBe(120);

    const seen: number[] = [];
    const sizes: number[] = [];
    let after = 0;
    for (;;) {
      const page = await json<{
        items: { id: number; status: string; errorMessage: string }[];
        next: number | null;
      }>(`${s.url}api/items?limit=50&after=${after}`, token);
      sizes.push(page.items.length);
      for (const i of page.items) {
        expect(i.status).toBe("DEAD");
        expect(i.errorMessage).toMatch(/refused by the test sink/);
        seen.push(i.id);
      }
      if (page.next === null) break;
      after = page.next;
    }
    expect(sizes).toEqual([50, 50, 20]);
    expect(new Set(seen).size).toBe(120);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    // retry: two picked items, then the rest of the job
    const post = (body: unknown) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${s.url}api/retry`,
          {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          },
          (res) => {
            let text = "";
            res.on("data", (b: Buffer) => (text += b.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify(body));
      });
    expect(JSON.parse((await post({ ids: seen.slice(0, 2) })).body)).toEqual({ requeued: 2 });
    expect((await json<State>(`${s.url}api/state`, token)).jobs[0]!.dead).toBe(118);
    expect((await post({ ids: ["x"] })).status).toBe(400);
    expect(JSON.parse((await post({ job: "notes" })).body)).toEqual({ requeued: 118 });
    const unknown = await post({ job: "nope" });
    expect(unknown.status).toBe(400);
    expect((JSON.parse(unknown.body) as { error: string }).error).toMatch(/unknown job "nope"/);
    const tooMany = await get(`${s.url}api/items?limit=5000`, token);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatch(/limit must be a whole number from 1 to 200, got 5000/);
  }, 60_000);

  it("daemon --web-port serves the page with the daemon's token from the environment (never printed)", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "alpha" });
    ws.write("syncwarden.yaml", config({ files: 1, schedule: true }));
    const token = "daemon-web-token";
    const s = await start(["daemon", "--web-port", "0"], ws.dir, { SYNCWARDEN_WEB_TOKEN: token });
    children.push(s.child);
    await expect
      .poll(async () => (await json<State>(`${s.url}api/state`, token)).jobs[0]!.lastRun?.status, {
        timeout: SEEN_MS,
      })
      .toBe("completed");
    expect((await get(s.url, token, { host: "evil.example" })).status).toBe(403);
    expect((await get(s.url, token)).body).toMatch(/<title>syncwarden status<\/title>/);
    s.child.kill("SIGTERM");
    expect(await s.exited).toBe(0);
    expect(s.stderr()).not.toContain(token);
  }, 60_000);

  it("refuses a port that is not one, naming the flag", async () => {
    ws = new Workspace();
    ws.write("syncwarden.yaml", config({ files: 0 }));
    const bad = await runCli(["serve", "--port", "http"], { cwd: ws.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port needs a port number \(0–65535\), got "http"/);
    const daemon = await runCli(["daemon", "--web-port", "99999"], { cwd: ws.dir });
    expect(daemon.code).toBe(2);
    expect(daemon.stderr).toMatch(/--web-port needs a port number \(0–65535\), got "99999"/);
  }, 60_000);
});
