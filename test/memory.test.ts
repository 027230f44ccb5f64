import { spawn } from "node:child_process";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeLlm, type FakeLlm } from "../src/testing/fake-llm.js";
import { appendTurns, writeSessions, type SyntheticSession } from "./helpers/sessions.js";
import { CLI, runCli, Workspace } from "./helpers/workspace.js";

// Agent-session memory end to end: transcripts → episodes → an LLM through the fake OpenAI-compatible
// server → the knowledge store, through the real CLI and MCP server, with the LLM failing and processes killed.

const env = { LLM_API_KEY: "sk-test-memory-0123456789" };
const JOB = "agent-memory";

interface Stats {
  episodes: number;
  extracted: number;
  entities: number;
  facts: number;
  validFacts: number;
  promptTokens: number;
  completionTokens: number;
}

function memoryConfig(url: string, o: { workers?: number; llm?: string } = {}): string {
  return `sync: { max_retries: 2, retry_wait_seconds: 0, max_workers: ${o.workers ?? 4} }
providers:
  llm:
    base_url: ${url}/v1
    api_key: \${LLM_API_KEY}
    retry: { max_attempts: 2, base_delay: 0.01, max_delay: 0.05 }
    breaker: { failure_threshold: 5, success_threshold: 1, timeout: 0.3, max_timeout: 1 }
    timeout: 10
${o.llm ?? ""}
jobs:
  ${JOB}:
    phases:
      - name: episodes
        source: { type: sessions, path: "sessions/**/*.jsonl", format: claude-code }
        enrich: [{ type: llm-extract, provider: llm, model: fake-model }]
        sink: { type: memory }
`;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeLlm(o: Parameters<typeof startFakeLlm>[0] = {}): Promise<FakeLlm> {
  const llm = await startFakeLlm(o);
  cleanups.push(() => llm.close());
  return llm;
}

function workspace(
  llm: FakeLlm,
  sessions: number,
  turns: number,
  o: Parameters<typeof memoryConfig>[1] = {},
) {
  const ws = new Workspace();
  cleanups.push(() => ws.cleanup());
  ws.write("syncwarden.yaml", memoryConfig(llm.url, o));
  const written = writeSessions(path.join(ws.dir, "sessions"), { sessions, turns });
  return { ws, sessions: written };
}

async function run(
  ws: Workspace,
): Promise<{ code: number | null; result: Record<string, unknown>; stderr: string }> {
  const r = await runCli(["run", "--json"], { cwd: ws.dir, env });
  return { code: r.code, result: JSON.parse(r.stdout || "{}") as Record<string, unknown>, stderr: r.stderr };
}

async function stats(ws: Workspace): Promise<Stats & { debts: number }> {
  const r = await runCli(["status", JOB, "--json"], { cwd: ws.dir, env });
  expect(r.code, r.stderr).toBe(0);
  const [s] = (JSON.parse(r.stdout) as { jobs: { memory: Stats; debts: number }[] }).jobs;
  return { ...s!.memory, debts: s!.debts };
}

/** How many times each episode's knowledge was written, and each document: both must be exactly once per key. */
function counts(ws: Workspace): { documents: number; episodes: number; mentions: number } {
  const db = ws.db();
  try {
    const one = (sql: string): number => db.prepare<[], number>(sql).pluck().get()!;
    return {
      documents: one(`SELECT COUNT(*) FROM documents WHERE job = '${JOB}'`),
      episodes: one(`SELECT COUNT(*) FROM episodes WHERE job = '${JOB}'`),
      mentions: one("SELECT COUNT(*) FROM mentions"),
    };
  } finally {
    db.close();
  }
}

const sessionOf = (prompt: string): string | undefined => /# Session (\S+), turns/.exec(prompt)?.[1];

describe("agent-session memory", () => {
  it("LLM down for the first half of 200 sessions: all stored raw or extracted, debts paid once, counts equal an uninterrupted run", async () => {
    // the reference: the same 200 sessions with the LLM up throughout
    const upLlm = await fakeLlm();
    const ref = workspace(upLlm, 200, 3);
    const first = await run(ref.ws);
    expect(first.code, first.stderr).toBe(0);
    expect(first.result).toMatchObject({ status: "completed", degradation: "full" });
    const want = await stats(ref.ws);
    expect(want).toMatchObject({ episodes: 200, extracted: 200, debts: 0 });
    expect(want.entities).toBeGreaterThan(10);
    expect(want.facts).toBeGreaterThan(200);

    // the LLM answers 503 for every episode of the first 100 sessions
    const llm = await fakeLlm();
    const { ws, sessions } = workspace(llm, 200, 3);
    const down = new Set(sessions.slice(0, 100).map((s) => s.id));
    llm.fault = (req) => {
      const s = sessionOf(req.user);
      return s !== undefined && down.has(s) ? { kind: "server_error", status: 503 } : undefined;
    };
    const degraded = await run(ws);
    expect(degraded.code, degraded.stderr).toBe(3);
    expect(["partial", "raw_only"]).toContain(degraded.result.degradation);
    const after1 = await stats(ws);
    // every session stored: raw ones are owed, and searchable by their words at once
    expect(after1.episodes).toBe(200);
    expect(after1.debts).toBeGreaterThanOrEqual(100);
    expect(after1.extracted + after1.debts).toBe(200);
    const raw = await runCli(
      ["memory", "search", "ECONNRESET", "--kind", "episodes", "--json", "--limit", "50"],
      {
        cwd: ws.dir,
        env,
      },
    );
    expect(raw.code, raw.stderr).toBe(0);
    const rawHits = JSON.parse(raw.stdout) as { episode: { extracted: boolean } }[];
    expect(rawHits.some((h) => !h.episode.extracted)).toBe(true);

    // the LLM is back: the next run extracts exactly the owed episodes, once each
    llm.fault = undefined;
    const before = llm.stats.completions;
    const promptsBefore = llm.prompts.length;
    const back = await run(ws);
    expect(back.code, back.stderr).toBe(0);
    expect(back.result).toMatchObject({ status: "completed" });
    expect(llm.stats.completions - before).toBe(after1.debts);
    const paidFor = llm.prompts.slice(promptsBefore).map(sessionOf);
    expect(new Set(paidFor).size).toBe(paidFor.length);
    const got = await stats(ws);
    expect(got).toEqual({ ...want, debts: 0 });
    expect(counts(ws)).toEqual(counts(ref.ws));

    // a third run has nothing to do: no request at all
    const idle = llm.stats.requests;
    const again = await run(ws);
    expect(again.code, again.stderr).toBe(0);
    expect(llm.stats.requests).toBe(idle);
  }, 240_000);

  it("kill -9 at observed points loses nothing and counts nothing twice", async () => {
    const refLlm = await fakeLlm();
    const ref = workspace(refLlm, 60, 3);
    expect((await run(ref.ws)).code).toBe(0);
    const want = await stats(ref.ws);

    const llm = await fakeLlm({ latencyMs: 60 });
    const { ws } = workspace(llm, 60, 3, { workers: 3 });
    const completed = (): number => {
      try {
        const db = ws.db();
        try {
          return db
            .prepare<[], number>("SELECT COUNT(*) FROM items WHERE status = 'COMPLETED'")
            .pluck()
            .get()!;
        } finally {
          db.close();
        }
      } catch {
        return 0; // the ledger is not created yet
      }
    };
    for (const point of [10, 35]) {
      const child = spawn(process.execPath, [CLI, "run"], {
        cwd: ws.dir,
        env: { ...process.env, ...env },
        stdio: "ignore",
      });
      const exited = new Promise<void>((r) => child.on("exit", () => r()));
      const deadline = Date.now() + 60_000;
      while (completed() < point && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      child.kill("SIGKILL");
      await exited;
      expect(completed()).toBeGreaterThanOrEqual(point);
      expect(completed()).toBeLessThan(60);
    }
    const last = await run(ws);
    expect(last.code, last.stderr).toBe(0);
    const got = await stats(ws);
    expect(got).toEqual(want);
    expect(counts(ws)).toEqual(counts(ref.ws));
  }, 180_000);

  it("a session appended to between runs: only its new turns go to the LLM", async () => {
    const llm = await fakeLlm();
    const { ws, sessions } = workspace(llm, 4, 16);
    expect((await run(ws)).code).toBe(0);
    // 16 turns, 8 to an episode: two episodes a session
    expect(llm.stats.completions).toBe(8);
    const seen = llm.prompts.length;
    for (const s of sessions) appendTurns(s, 8, new Date(Date.now() - 3_600_000));
    expect((await run(ws)).code).toBe(0);
    const fresh = llm.prompts.slice(seen);
    expect(fresh).toHaveLength(4);
    for (const p of fresh) {
      expect(p).toContain("turns 16-23");
      expect(p).not.toContain("Turn 15:");
    }
    expect((await stats(ws)).episodes).toBe(12);
  }, 120_000);

  it("the CLI: a note stored raw while the LLM is down is searchable at once, owed, then extracted by debts pay", async () => {
    const llm = await fakeLlm();
    const { ws } = workspace(llm, 3, 2);
    expect((await run(ws)).code).toBe(0);
    llm.down = true;
    const note = "Decision: use undici for every HTTP call in src/net/client.ts; express stays for routes";
    const add = await runCli(["memory", "add", note, "--title", "http client", "--json"], {
      cwd: ws.dir,
      env,
    });
    expect(add.code, add.stderr).toBe(3);
    const added = JSON.parse(add.stdout) as { key: string; degradation: string; owed: string[] };
    expect(added.degradation).toBe("raw_only");
    expect(added.owed[0]).toMatch(/^llm-extract: /);
    const owed = await runCli(["debts", "--json"], { cwd: ws.dir, env });
    expect((JSON.parse(owed.stdout) as { key: string }[]).map((d) => d.key)).toEqual([added.key]);
    const found = await runCli(["memory", "search", "undici", "routes", "--kind", "episodes", "--json"], {
      cwd: ws.dir,
      env,
    });
    expect((JSON.parse(found.stdout) as { episode: { key: string } }[]).map((h) => h.episode.key)).toContain(
      added.key,
    );

    llm.down = false;
    const pay = await runCli(["debts", "pay"], { cwd: ws.dir, env });
    expect(pay.code, pay.stderr).toBe(0);
    expect(pay.stderr).toContain("paid 1 debts; 0 remain");
    const entity = await runCli(["memory", "entity", "UNDICI", "--json"], { cwd: ws.dir, env });
    expect(entity.code, entity.stderr).toBe(0);
    const e = JSON.parse(entity.stdout) as {
      entity: { name: string; type: string };
      episodes: { key: string; extracted: boolean }[];
    };
    expect(e.entity).toMatchObject({ name: "undici", type: "library" });
    expect(e.episodes).toContainEqual(expect.objectContaining({ key: added.key, extracted: true }));
    // the same note again is the same episode
    const again = await runCli(["memory", "add", note, "--title", "http client", "--json"], {
      cwd: ws.dir,
      env,
    });
    expect(again.code, again.stderr).toBe(0);
    expect((await stats(ws)).episodes).toBe(4);

    const episodes = await runCli(["memory", "episodes", "--since", "2026-01-01", "--json"], {
      cwd: ws.dir,
      env,
    });
    expect((JSON.parse(episodes.stdout) as unknown[]).length).toBe(4);
    const bad = await runCli(["memory", "episodes", "--since", "yesterday"], { cwd: ws.dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--since");
  }, 120_000);

  it("MCP: sync_sessions starts at once, sync_status follows it, search_memory finds an entity of one session", async () => {
    const llm = await fakeLlm({ latencyMs: 20 });
    const { ws, sessions } = workspace(llm, 6, 2);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "mcp", "-c", ws.configFile],
      cwd: ws.dir,
      env: { ...(process.env as Record<string, string>), ...env },
      stderr: "pipe",
    });
    const client = new Client({ name: "memory-test", version: "1.0.0" });
    await client.connect(transport);
    cleanups.push(() => client.close());
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(
      expect.arrayContaining(["search_memory", "get_entity", "get_episodes", "add_memory", "sync_sessions"]),
    );

    const started = await client.callTool({ name: "sync_sessions", arguments: {} });
    expect(started.isError, JSON.stringify(started.content)).toBeFalsy();
    const [r] = (started.structuredContent as { runs: { runId: string; job: string; degradation: string }[] })
      .runs;
    expect(r).toMatchObject({ job: JOB, degradation: "full" });
    type Ended = { status: string; degradation: string };
    let result: Ended | null = null;
    for (let i = 0; i < 300 && !result; i++) {
      const s = await client.callTool({ name: "sync_status", arguments: { run_id: r!.runId } });
      const run = (s.structuredContent as { run?: { state: string; result: Ended | null } }).run;
      if (run?.state === "ended") result = run.result;
      else await new Promise((res) => setTimeout(res, 100));
    }
    expect(result).toMatchObject({ status: "completed", degradation: "full" });

    // session 5's one turn pair mentions its own file, library and error; find its error by name
    const found = await client.callTool({
      name: "search_memory",
      arguments: { query: "SQLITE_BUSY", kind: "entities" },
    });
    const hits = (
      found.structuredContent as { hits: { kind: string; entity?: { name: string; id: number } }[] }
    ).hits;
    const entity = hits.find((h) => h.entity?.name === "SQLITE_BUSY")?.entity;
    expect(entity, JSON.stringify(hits)).toBeDefined();
    const detail = await client.callTool({ name: "get_entity", arguments: { id: entity!.id } });
    const d = detail.structuredContent as { facts: { subject: string }[]; episodes: { session: string }[] };
    expect(d.facts.length).toBeGreaterThan(0);
    expect(d.episodes.length).toBeGreaterThan(0);
    for (const ep of d.episodes) expect(sessions.map((s: SyntheticSession) => s.id)).toContain(ep.session);

    const bySession = await client.callTool({
      name: "get_episodes",
      arguments: { session: sessions[0]!.id },
    });
    expect((bySession.structuredContent as { episodes: { session: string }[] }).episodes).toEqual([
      expect.objectContaining({ session: sessions[0]!.id }),
    ]);

    const added = await client.callTool({
      name: "add_memory",
      arguments: { text: "Decision: the cache in src/cache.ts moves to pino logging" },
    });
    expect(added.structuredContent).toMatchObject({ degradation: "full" });
    const recall = await client.callTool({
      name: "search_memory",
      arguments: { query: "cache pino logging" },
    });
    const recalled = (recall.structuredContent as { hits: { kind: string; episode?: { key: string } }[] })
      .hits;
    expect(recalled.some((h) => h.episode?.key === (added.structuredContent as { key: string }).key)).toBe(
      true,
    );
  }, 120_000);
});
