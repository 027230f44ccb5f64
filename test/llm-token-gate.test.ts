import { afterEach, describe, expect, it } from "vitest";
import { startFakeLlm, type FakeLlm } from "../src/testing/fake-llm.js";
import { episode, llmConfig, type RunResult } from "./helpers/llm-episodes.js";
import { runCli, Workspace } from "./helpers/workspace.js";

const env = { LLM_API_KEY: "sk-test-gate-0123456789" };
const TPM = 14_400;
const PER_JOB = 20;

let ws: Workspace;
let llm: FakeLlm;
afterEach(async () => {
  await llm.close();
  ws.cleanup();
});

describe("the token gate shared across processes", () => {
  it("two processes pace by the provider's tokens per minute together: more than a minute's tokens, 0 × 429", async () => {
    llm = await startFakeLlm({ limits: { tokensPerMinute: TPM, requestsPerMinute: 10_000 } });
    ws = new Workspace();
    for (const job of ["a", "b"])
      ws.write(
        `${job}.json`,
        JSON.stringify(
          Array.from({ length: PER_JOB }, (_, i) => ({
            key: `${job}-${i}`,
            version: "v1",
            content: episode(job === "a" ? i : 100 + i),
          })),
        ),
      );
    const step = "prompt: Extract JSON., max_output_tokens: 500";
    const a = llmConfig(llm.url, { job: "a", items: "a.json", step, sync: "max_workers: 4" });
    const b = llmConfig(llm.url, { job: "b", items: "b.json", step }).split("jobs:\n")[1]!;
    ws.write("syncwarden.yaml", a + b);
    const started = Date.now();
    const runs = await Promise.all(
      ["a", "b"].map((job) => runCli(["run", job, "--json"], { cwd: ws.dir, env })),
    );
    const seconds = (Date.now() - started) / 1000;
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout) as RunResult).toMatchObject({ status: "completed", degradation: "full" });
    }
    const served = llm.stats.promptTokens + llm.stats.completionTokens;
    expect(llm.stats.completions).toBe(2 * PER_JOB);
    expect(llm.stats.rateLimited).toBe(0);
    // the demand passed the bucket's minute, so the rest had to be paced at TPM / 60 per second
    expect(served).toBeGreaterThan(TPM * 1.1);
    expect(seconds).toBeGreaterThan(((served - TPM) / (TPM / 60)) * 0.8);
  });
});
