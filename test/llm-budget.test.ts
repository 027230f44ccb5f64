import { afterEach, describe, expect, it } from "vitest";
import { startFakeLlm, type FakeLlm } from "../src/testing/fake-llm.js";
import { episode, llmConfig, writeEpisodes, type RunResult } from "./helpers/llm-episodes.js";
import { runCli, Workspace } from "./helpers/workspace.js";

const env = { LLM_API_KEY: "sk-test-budget-0123456789" };
/** The step's largest request estimate here: the prompt's chars / 4, 4 per message, max_output_tokens. */
const ESTIMATE = Math.ceil((episode(99).length + "Extract JSON.".length) / 4) + 8 + 500;

let ws: Workspace;
let llm: FakeLlm;
afterEach(async () => {
  await llm.close();
  ws.cleanup();
});

async function run(): Promise<{ code: number | null; result: RunResult; stderr: string }> {
  const r = await runCli(["run", "--json"], { cwd: ws.dir, env });
  return { code: r.code, result: JSON.parse(r.stdout) as RunResult, stderr: r.stderr };
}

function debtCount(): number {
  const db = ws.db();
  try {
    return db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM debts").get()!.n;
  } finally {
    db.close();
  }
}

const served = (): number => llm.stats.promptTokens + llm.stats.completionTokens;

describe("llm-extract token budget", () => {
  it("stops extraction (not storage) at the per-run budget, within one request, and the run says so", async () => {
    llm = await startFakeLlm();
    ws = new Workspace();
    writeEpisodes(
      ws,
      Array.from({ length: 12 }, (_, i) => ({ key: `ep-${i}`, content: episode(i) })),
    );
    const budget = 3000;
    ws.write(
      "syncwarden.yaml",
      llmConfig(llm.url, {
        step: `prompt: Extract JSON., max_output_tokens: 500, budget: { max_tokens_per_run: ${budget} }`,
        sync: "max_workers: 3",
      }),
    );
    const { code, result, stderr } = await run();
    expect(code, stderr).toBe(3);
    expect(result).toMatchObject({ status: "completed", degradation: "partial" });
    expect(result.phases[0]).toMatchObject({ total: 12, completed: 12, dead: 0 });
    const warned = result.warnings.filter((w) => w.includes("token budget"));
    expect(warned).toEqual([
      `sessions/episodes: llm-extract: token budget of ${budget} per run reached; the remaining episodes are stored raw and owed`,
    ]);
    expect(served()).toBeLessThanOrEqual(budget);
    expect(served()).toBeGreaterThan(budget - ESTIMATE);
    expect(llm.stats.rateLimited).toBe(0);
    // every episode stored; those not extracted are owed (the debts the run tried to pay stayed in budget)
    expect(ws.documents("sessions").size).toBe(12);
    expect(debtCount()).toBe(12 - llm.stats.completions);
    expect(result.phases[0]!.degraded).toBe(12 - llm.stats.completions);
  });

  it("keeps a per-day budget across runs: the next run that day extracts nothing and owes it all", async () => {
    llm = await startFakeLlm();
    ws = new Workspace();
    writeEpisodes(
      ws,
      Array.from({ length: 6 }, (_, i) => ({ key: `ep-${i}`, content: episode(i) })),
    );
    const budget = 2000;
    ws.write(
      "syncwarden.yaml",
      llmConfig(llm.url, {
        step: `prompt: Extract JSON., max_output_tokens: 500, budget: { max_tokens_per_day: ${budget} }`,
        sync: "max_workers: 2",
      }),
    );
    const first = await run();
    expect(first.code, first.stderr).toBe(3);
    expect(first.result.warnings.some((w) => w.includes(`token budget of ${budget} per day reached`))).toBe(
      true,
    );
    const afterFirst = served();
    expect(afterFirst).toBeLessThanOrEqual(budget);
    expect(afterFirst).toBeGreaterThan(budget - ESTIMATE);
    const requests = llm.stats.requests;

    writeEpisodes(
      ws,
      Array.from({ length: 8 }, (_, i) => ({ key: `ep-${i}`, content: episode(i) })),
    );
    const second = await run();
    expect(second.code, second.stderr).toBe(3);
    expect(second.result.phases[0]).toMatchObject({ completed: 2, degraded: 2 });
    expect(llm.stats.requests).toBe(requests); // nothing asked: the day's budget is spent
    expect(debtCount()).toBe(8 - llm.stats.completions);
  });
});
