import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { startFakeLlm, type FakeLlm } from "../src/testing/fake-llm.js";
import { freshSchema, testPostgres } from "./helpers/postgres.js";
import { writeSessions } from "./helpers/sessions.js";
import { runCli, Workspace } from "./helpers/workspace.js";

// The memory sink on the PostgreSQL ledger: the same episodes, entities and facts as on SQLite, debts
// paid once when the LLM comes back.

afterAll(async () => (await testPostgres()).stop());

const JOB = "agent-memory";
const config = (url: string): string => `sync: { max_retries: 2, retry_wait_seconds: 0, max_workers: 4 }
providers:
  llm:
    base_url: ${url}/v1
    api_key: \${LLM_API_KEY}
    retry: { max_attempts: 2, base_delay: 0.01, max_delay: 0.05 }
    breaker: { failure_threshold: 3, success_threshold: 1, timeout: 0.3, max_timeout: 1 }
jobs:
  ${JOB}:
    phases:
      - name: episodes
        source: { type: sessions, path: "sessions/**/*.jsonl" }
        enrich: [{ type: llm-extract, provider: llm, model: fake-model }]
        sink: { type: memory }
`;

interface Stats {
  episodes: number;
  extracted: number;
  entities: number;
  facts: number;
  validFacts: number;
  promptTokens: number;
  completionTokens: number;
}

describe("agent memory on a PostgreSQL ledger", () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(
    env: Record<string, string>,
  ): Promise<{ ws: Workspace; llm: FakeLlm; env: Record<string, string> }> {
    const llm = await startFakeLlm();
    cleanups.push(() => llm.close());
    const ws = new Workspace();
    cleanups.push(() => ws.cleanup());
    ws.write("syncwarden.yaml", config(llm.url));
    writeSessions(path.join(ws.dir, "sessions"), { sessions: 40, turns: 3 });
    return { ws, llm, env: { LLM_API_KEY: "sk-test-pg-memory-000000", ...env } };
  }

  async function stats(ws: Workspace, env: Record<string, string>): Promise<Stats & { debts: number }> {
    const r = await runCli(["status", JOB, "--json"], { cwd: ws.dir, env });
    expect(r.code, r.stderr).toBe(0);
    const [s] = (JSON.parse(r.stdout) as { jobs: { memory: Stats; debts: number }[] }).jobs;
    return { ...s!.memory, debts: s!.debts };
  }

  it("stores raw while the LLM is down, pays the debts once, and ends equal to the SQLite ledger", async () => {
    const ref = await setup({});
    expect((await runCli(["run"], { cwd: ref.ws.dir, env: ref.env })).code).toBe(0);
    const want = await stats(ref.ws, ref.env);
    expect(want).toMatchObject({ episodes: 40, extracted: 40, debts: 0 });

    const { url } = await testPostgres();
    const pg = await setup({ SYNCWARDEN_DATABASE_URL: url, SYNCWARDEN_DATABASE_SCHEMA: freshSchema() });
    pg.llm.down = true;
    const down = await runCli(["run", "--json"], { cwd: pg.ws.dir, env: pg.env });
    expect(down.code, down.stderr).toBe(3);
    expect(JSON.parse(down.stdout)).toMatchObject({ degradation: "raw_only" });
    expect(await stats(pg.ws, pg.env)).toMatchObject({ episodes: 40, extracted: 0, debts: 40 });
    // raw episodes are found by their words at once
    const raw = await runCli(["memory", "search", "ECONNRESET", "--kind", "episodes", "--json"], {
      cwd: pg.ws.dir,
      env: pg.env,
    });
    expect((JSON.parse(raw.stdout) as unknown[]).length).toBeGreaterThan(0);

    pg.llm.down = false;
    const before = pg.llm.stats.completions;
    const back = await runCli(["run"], { cwd: pg.ws.dir, env: pg.env });
    expect(back.code, back.stderr).toBe(0);
    expect(pg.llm.stats.completions - before).toBe(40);
    expect(await stats(pg.ws, pg.env)).toEqual(want);

    const entity = await runCli(["memory", "entity", "src/auth.ts", "--json"], {
      cwd: pg.ws.dir,
      env: pg.env,
    });
    expect(entity.code, entity.stderr).toBe(0);
    const e = JSON.parse(entity.stdout) as {
      entity: { type: string };
      facts: unknown[];
      episodes: unknown[];
    };
    expect(e.entity.type).toBe("file");
    expect(e.facts.length).toBeGreaterThan(0);
    // fused: the entity the query names leads; facts about it are found by their words and the graph
    const fused = await runCli(["memory", "search", "src/auth.ts", "zod", "--json"], {
      cwd: pg.ws.dir,
      env: pg.env,
    });
    const [top] = JSON.parse(fused.stdout) as { kind: string; entity?: { name: string } }[];
    expect(top).toMatchObject({ kind: "entity", entity: { name: "src/auth.ts" } });
    const facts = await runCli(["memory", "search", "src/auth.ts", "--kind", "facts", "--json"], {
      cwd: pg.ws.dir,
      env: pg.env,
    });
    const found = JSON.parse(facts.stdout) as { kind: string; fact: { subject: string; object: string } }[];
    expect(found.length).toBeGreaterThan(0);
    for (const h of found) expect(h.kind).toBe("fact");
    expect(found.some((h) => [h.fact.subject, h.fact.object].includes("src/auth.ts"))).toBe(true);
  }, 180_000);
});
