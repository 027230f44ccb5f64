import { spawn, type ChildProcess } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub } from "../src/testing/fake-github.js";
import { CLI, runCli, Workspace } from "./helpers/workspace.js";

// A token's budget is shared through the ledger: one process pauses at the limit and resumes after
// the reset without losing work, even when killed along the way; several processes on one token
// together never go past its limit, and none calls while the shared gate is closed.

const TOKEN = "ghp_shared_budget_token";
let ws: Workspace;
let fake: FakeGitHub | undefined;
const children: ChildProcess[] = [];

beforeEach(() => {
  ws = new Workspace();
});
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  children.length = 0;
  await fake?.close();
  fake = undefined;
  ws.cleanup();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function files(n: number, prefix: string): Record<string, string> {
  return Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`${prefix}/d${i % 20}/f${i}.txt`, `${prefix} file ${i}\n`]),
  );
}

function job(name: string, repo: string, extra = ""): string {
  return `  ${name}:
    phases:
      - name: files
        source: { type: github, repo: ${repo}, token: "\${GH_TOKEN}", base_url: "${fake!.url}", points_per_minute: 100000${extra} }
        sink: { type: sqlite-docs, table: ${name} }
`;
}

function start(args: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ws.dir,
    env: { ...process.env, GH_TOKEN: TOKEN },
    stdio: "ignore",
  });
  children.push(child);
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, exited };
}

/** The shared gate's closed intervals, from the event log: [announced, reopens] in epoch ms. */
function gatePauses(): [number, number][] {
  const db = ws.db();
  try {
    return db
      .prepare<[], { ts: number; data: string }>("SELECT ts, data FROM events WHERE type = 'resilience:rate'")
      .all()
      .map((e) => {
        const { until } = JSON.parse(e.data) as { until: number };
        return [e.ts, until] as [number, number];
      });
  } finally {
    db.close();
  }
}

/** How many budget windows the server opened: each starts at the first counted request after the last ended. */
function windows(f: FakeGitHub, windowMs: number): number {
  let n = 0;
  let end = 0;
  for (const r of f.requests)
    if (r.counted && r.at >= end) {
      n++;
      end = r.at + windowMs;
    }
  return n;
}

describe("github rate limits, shared through the ledger", () => {
  it("a 2,000-file first sync through a 300-request budget pauses at the limit, resumes after each reset, and survives kill -9: every file exactly once, the checkpoint only at the end", async () => {
    ws.commit(files(2000, "src"), "first");
    fake = await startFakeGitHub({
      repos: { "octo/big": { dir: ws.repo } },
      tokens: { [TOKEN]: { limit: 300 } },
      windowSeconds: 2,
    });
    ws.write(
      "syncwarden.yaml",
      `sync: { max_workers: 4, retry_wait_seconds: 0, rate_limit_wait_seconds: 1 }\njobs:\n${job("big", "octo/big")}`,
    );
    // kill -9 at points observed at the server: mid-window, at a pause, and after a reset
    const killAt = [150, 600, 1100, 1500];
    let kills = 0;
    const killedAt: number[] = [];
    for (const at of killAt) {
      const { child, exited } = start(["run", "big"]);
      const deadline = Date.now() + 120_000;
      while (fake.counted(TOKEN) < at && child.exitCode === null && Date.now() < deadline) await sleep(20);
      if (child.exitCode !== null) break;
      child.kill("SIGKILL");
      killedAt.push(Date.now());
      await exited;
      kills++;
      expect(ws.checkpoint("big", "files")).toBeNull();
    }
    expect(kills).toBeGreaterThanOrEqual(3);
    const last = await runCli(["run", "big", "--json"], { cwd: ws.dir, env: { GH_TOKEN: TOKEN } });
    expect(last.code).toBe(0);
    expect(ws.checkpoint("big", "files")).toBe(ws.head());
    const docs = ws.documents("big");
    expect(docs.size).toBe(2000);
    for (const [key, content] of docs)
      expect(content).toBe(`src file ${key.replace(/.*\/f(\d+)\.txt$/, "$1")}\n`);
    // paused at every limit: the server refused nothing
    expect(fake.statusCounts()[403] ?? 0).toBe(0);
    // the server saw the budget's windows one after another (2,000 blobs need at least 7 of 300)
    expect(windows(fake, 2000)).toBeGreaterThanOrEqual(7);
    // work recorded as done is never redone: a blob asked for twice was first fetched around a kill (in
    // flight, or its settlement still in the 100 ms group-commit buffer), never earlier
    const fetched = new Map<string, number[]>();
    for (const r of fake.requests)
      if (r.path.includes("/git/blobs/") && r.status === 200)
        fetched.set(r.path, [...(fetched.get(r.path) ?? []), r.at]);
    expect(fetched.size).toBe(2000);
    const redoneEarly = [...fetched.entries()].filter(
      ([, at]) => at.length > 1 && !killedAt.some((k) => at[0]! <= k + 100 && k - at[0]! < 1000),
    );
    expect(redoneEarly).toEqual([]);
  }, 300_000); // a killed process's in-flight slots free themselves after the call timeout (30 s) + 5 s

  it("three processes sharing one token never go past its limit together, and none calls while the gate is closed", async () => {
    // no reserve: the token's 4 calls in flight are capped across the three processes, and the gate keeps room for them
    const limit = 120;
    const RESERVE = ", rate_limit_reserve: 0";
    for (const name of ["a", "b", "c"]) ws.commit(files(150, name), name);
    fake = await startFakeGitHub({
      repos: { "octo/a": { dir: ws.repo }, "octo/b": { dir: ws.repo }, "octo/c": { dir: ws.repo } },
      tokens: { [TOKEN]: { limit } },
      windowSeconds: 2,
    });
    ws.write(
      "syncwarden.yaml",
      `sync: { max_workers: 4, retry_wait_seconds: 0, rate_limit_wait_seconds: 1 }\njobs:\n${["a", "b", "c"].map((j) => job(j, `octo/${j}`, RESERVE)).join("")}`,
    );
    const runs = ["a", "b", "c"].map((j) => start(["run", j]));
    const codes = await Promise.all(runs.map((r) => r.exited));
    expect(codes).toEqual([0, 0, 0]);
    for (const j of ["a", "b", "c"]) expect(ws.documents(j).size).toBe(450);
    // 3 × (450 blobs + 3 listings) requests over windows of 120: the limit was reached again and again
    expect(fake.counted(TOKEN)).toBeGreaterThanOrEqual(3 * 453);
    expect(fake.statusCounts()[403] ?? 0).toBe(0);
    expect(fake.statusCounts()[429] ?? 0).toBe(0);
    // the token's concurrency (4) holds across the processes, at the server
    expect(fake.maxInFlight(TOKEN)).toBeLessThanOrEqual(4);
    const pauses = gatePauses();
    expect(pauses.length).toBeGreaterThanOrEqual(5);
    // a request that reached the server while the gate was closed (beyond calls already in flight when it closed)
    const during = fake.requests.filter((r) =>
      pauses.some(([from, until]) => r.at > from + 50 && r.at < until - 5),
    );
    expect(during.map((r) => `${r.path} at ${r.at}`)).toEqual([]);
  });
});
