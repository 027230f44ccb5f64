import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeLlm, type FakeLlm } from "../src/testing/fake-llm.js";
import {
  EXTRACTION_SINK,
  episode,
  llmConfig,
  writeEpisodes,
  type Logged,
  type RunResult,
} from "./helpers/llm-episodes.js";
import { runCli, Workspace } from "./helpers/workspace.js";

const KEY = "sk-test-0123456789abcdef";
const env = { LLM_API_KEY: KEY };

let ws: Workspace;
let llm: FakeLlm;
afterEach(async () => {
  await llm.close();
  ws.cleanup();
});

async function setup(n: number, config: (url: string) => string, padding = 0): Promise<void> {
  llm = await startFakeLlm();
  ws = new Workspace();
  writeEpisodes(
    ws,
    Array.from({ length: n }, (_, i) => ({ key: `ep-${i}`, content: episode(i, padding) })),
  );
  ws.write("syncwarden.yaml", config(llm.url));
}

async function run(): Promise<{ code: number | null; result: RunResult; stderr: string }> {
  const r = await runCli(["run", "--json"], { cwd: ws.dir, env });
  return { code: r.code, result: JSON.parse(r.stdout) as RunResult, stderr: r.stderr };
}

function extractions(): Map<string, Logged> {
  const file = path.join(ws.dir, "extractions.jsonl");
  if (!existsSync(file)) return new Map();
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
  return new Map(lines.map((l) => JSON.parse(l) as Logged).map((l) => [l.key, l]));
}

function debts(): { key: string; reason: string }[] {
  const db = ws.db();
  try {
    return db
      .prepare<[], { key: string; reason: string }>("SELECT key, reason FROM debts ORDER BY key")
      .all();
  } finally {
    db.close();
  }
}

describe("llm-extract through the fake OpenAI-compatible server", () => {
  it("extracts each episode's summary, entities and facts with its usage; the key goes as a bearer", async () => {
    await setup(3, (url) => llmConfig(url, { sink: EXTRACTION_SINK }));
    const { code, result, stderr } = await run();
    expect(code, stderr).toBe(0);
    expect(result).toMatchObject({ status: "completed", degradation: "full" });
    const got = extractions();
    expect([...got.keys()].sort()).toEqual(["ep-0", "ep-1", "ep-2"]);
    const x = got.get("ep-1")!.extraction;
    expect(x.summary).toBe("Episode 1: fix the login crash in src/auth-1.ts");
    expect(x.model).toBe("fake-model");
    expect(x.entities).toEqual(
      expect.arrayContaining([
        { name: "src/auth-1.ts", type: "file", description: "the file src/auth-1.ts" },
        expect.objectContaining({ name: "express", type: "library" }),
        expect.objectContaining({ name: "ECONNRESET", type: "error" }),
        expect.objectContaining({ name: "validateToken1", type: "function" }),
        expect.objectContaining({ name: "alice", type: "person" }),
      ]),
    );
    expect(x.facts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ subject: "ECONNRESET", relation: "raised_in", object: "src/auth-1.ts" }),
        expect.objectContaining({ subject: "src/auth-1.ts", relation: "uses", object: "express" }),
      ]),
    );
    const total = [...got.values()].reduce(
      (n, l) => n + l.extraction.usage.promptTokens + l.extraction.usage.completionTokens,
      0,
    );
    expect(total).toBe(llm.stats.promptTokens + llm.stats.completionTokens);
    expect(llm.lastAuthorization).toBe(`Bearer ${KEY}`);
    expect(ws.documents("sessions").size).toBe(3);
  });

  it("waits out a 429 with retry-after, one with retry-after-ms and one with no hint, and succeeds", async () => {
    await setup(2, (url) => llmConfig(url, { sync: "max_workers: 1, rate_limit_wait_seconds: 0.5" }));
    llm.faults.push(
      { kind: "rate_limit", retryAfter: 1 },
      { kind: "rate_limit", retryAfterMs: 300 },
      { kind: "rate_limit" },
    );
    const started = Date.now();
    const { code, result, stderr } = await run();
    expect(code, stderr).toBe(0);
    expect(result).toMatchObject({ status: "completed", degradation: "full" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1800);
    expect(llm.stats).toMatchObject({ rateLimited: 3, completions: 2 });
    expect(debts()).toEqual([]);
  });

  it("stops at insufficient_quota as a configuration problem (not a rate limit), keeping every item", async () => {
    await setup(3, (url) => llmConfig(url, { sync: "max_workers: 1" }));
    llm.fault = () => ({ kind: "insufficient_quota" });
    const { code, result, stderr } = await run();
    expect(code, stderr).toBe(78);
    expect(result.status).toBe("failed");
    expect(result.error?.errorClass).toBe("config");
    expect(result.error?.message).toContain("exceeded your current quota");
    expect(stderr).not.toContain(KEY);
    expect(llm.stats.requests).toBe(1); // not retried, not waited for
    expect(debts()).toEqual([]);
    llm.fault = undefined;
    const again = await run();
    expect(again.code, again.stderr).toBe(0);
    expect(ws.documents("sessions").size).toBe(3);
  });

  it("splits an episode over the model's context at a turn boundary and merges the halves", async () => {
    await setup(1, (url) => llmConfig(url, { sink: EXTRACTION_SINK, step: "prompt: Extract JSON." }), 24);
    const whole = episode(0, 24).length;
    await llm.close();
    llm = await startFakeLlm({ contextTokens: Math.ceil(whole / 4 / 1.6) });
    ws.write("syncwarden.yaml", llmConfig(llm.url, { sink: EXTRACTION_SINK, step: "prompt: Extract JSON." }));
    const { code, result, stderr } = await run();
    expect(code, stderr).toBe(0);
    expect(result.degradation).toBe("full");
    expect(llm.stats.byStatus).toEqual({ 400: 1, 200: 2 });
    const [first, second] = llm.prompts.slice(1);
    expect(second!.startsWith("## User")).toBe(true);
    expect(first! + second!).toBe(episode(0, 24));
    const x = extractions().get("ep-0")!.extraction;
    const names = x.entities.map((e) => e.name);
    expect(names).toContain("src/pad-0-0.ts"); // first half
    expect(names).toContain("src/pad-0-23.ts"); // second half
    expect(names.filter((n) => n === "alice")).toHaveLength(1);
    expect(x.usage.promptTokens + x.usage.completionTokens).toBe(
      llm.stats.promptTokens + llm.stats.completionTokens,
    );
  });

  it("asks once more after a malformed answer; malformed twice, refused or cut: stored raw and owed", async () => {
    await setup(4, (url) => llmConfig(url, { sync: "max_workers: 1" }));
    llm.fault = (req) => {
      if (req.user.startsWith("Episode 0"))
        return llm.prompts.filter((p) => p.startsWith("Episode 0")).length === 1
          ? { kind: "malformed" }
          : undefined;
      if (req.user.startsWith("Episode 1")) return { kind: "schema_violation" };
      if (req.user.startsWith("Episode 2")) return { kind: "refusal" };
      return { kind: "length" };
    };
    const { code, result, stderr } = await run();
    expect(code, stderr).toBe(3);
    expect(result).toMatchObject({ status: "completed", degradation: "partial" });
    expect(result.phases[0]).toMatchObject({ total: 4, completed: 4, degraded: 3, dead: 0 });
    const owed = debts();
    expect(owed.map((d) => d.key)).toEqual(["ep-1", "ep-2", "ep-3"]);
    expect(owed[0]!.reason).toMatch(/does not fit the schema.*asked twice/);
    expect(owed[1]!.reason).toMatch(/refused/);
    expect(owed[2]!.reason).toMatch(/finish_reason "length"/);
    const asked = (n: number) => llm.prompts.filter((p) => p.startsWith(`Episode ${n}`)).length;
    // episode 0: one retry; the others: asked twice (1), once (2, 3) in the run, and maybe again when the
    // run tries to pay their debts at its end
    expect(asked(0)).toBe(2);
    expect([asked(1) >= 2, asked(2) >= 1, asked(3) >= 1]).toEqual([true, true, true]);
    expect(ws.documents("sessions").size).toBe(4); // every episode stored, raw or not
  });

  it("falls back to json_object for good when the server refuses json_schema", async () => {
    await setup(2, (url) => llmConfig(url, { sync: "max_workers: 1" }));
    llm.jsonSchema = false;
    const first = await run();
    expect(first.code, first.stderr).toBe(0);
    expect(first.result.degradation).toBe("full");
    expect(llm.stats.byStatus).toEqual({ 400: 1, 200: 2 });
    writeEpisodes(ws, [{ key: "ep-9", content: episode(9) }]);
    const next = await run();
    expect(next.code, next.stderr).toBe(0);
    expect(llm.stats.byStatus).toEqual({ 400: 1, 200: 3 }); // the next run asked json_object at once
  });

  it("retries a 503 and a hung request (after the provider's timeout), and obeys x-should-retry: false", async () => {
    await setup(2, (url) => llmConfig(url, { sync: "max_workers: 1" }));
    llm.faults.push(
      { kind: "server_error", status: 503 },
      { kind: "server_error", status: 500, shouldRetry: false },
      { kind: "hang" },
    );
    const { code, result } = await run();
    expect(code).toBe(3);
    expect(result.phases[0]).toMatchObject({ total: 2, completed: 1, dead: 1 });
    expect(llm.stats.byStatus).toEqual({ 503: 1, 500: 1, 200: 1 }); // the hung request got no answer
    expect(llm.stats.requests).toBe(4);
  });

  it("refuses at load a schema that breaks strict mode, naming the key path", async () => {
    const schema = `{ type: object, additionalProperties: false, required: [summary, entities, facts], properties: { summary: { type: string }, entities: { type: array, items: { type: string } }, facts: { type: array, items: { type: object, properties: { subject: { type: string } } } } } }`;
    await setup(1, (url) => llmConfig(url, { step: `schema: ${schema}` }));
    const r = await runCli(["run", "--json"], { cwd: ws.dir, env });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(
      "jobs.sessions.phases[0].enrich[0].schema.properties.facts.items: additionalProperties must be false with strict",
    );
    expect(llm.stats.requests).toBe(0);
  });
});
