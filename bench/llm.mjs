// Issue 17's LLM bench: episodes through llm-extract against the fake OpenAI-compatible server at its
// configured limits (tokens and requests per minute), beside a naive loop (4 workers, plain fetch, full-
// jitter backoff on 429, no pacing). Figures: episodes/s, tokens/s, 429s, and the share of the server's
// token refill the client used: (tokens served − the bucket's full minute at the start) / (TPM × minutes),
// since a client that starts with a full bucket gets that minute free whatever it does.
// Usage: npm run build && node bench/llm.mjs   (BENCH_LLM_TPM, BENCH_LLM_EPISODES, BENCH_LLM_RPM to change sizes)
// Writes bench/results/llm.json.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BENCH_DIR, CLI, cleanEnv, log, now, removeDir, runNode, tempDir } from "./lib.mjs";
import { startFakeLlm } from "../dist/testing/fake-llm.js";

const TPM = Number(process.env.BENCH_LLM_TPM ?? 30_000);
const RPM = Number(process.env.BENCH_LLM_RPM ?? 10_000);
const EPISODES = Number(process.env.BENCH_LLM_EPISODES ?? 150);
const WORKERS = 4;
const MAX_OUTPUT = 500;
const PROMPT = "Extract JSON.";

function episode(i) {
  return [
    `Episode ${i}: fix the login crash in src/auth-${i}.ts`,
    "## User",
    `The handler in src/auth-${i}.ts throws ECONNRESET when redis drops.`,
    "## Assistant",
    `src/auth-${i}.ts uses express; validateToken${i}() lives in src/auth-${i}.ts.`,
    "## User",
    `Decision: retry the redis call once in episode ${i} @alice`,
  ].join("\n");
}

const served = (llm) => llm.stats.promptTokens + llm.stats.completionTokens;

function figures(llm, ms) {
  const minutes = ms / 60_000;
  const tokens = served(llm);
  return {
    episodes: llm.stats.completions,
    seconds: Math.round(ms) / 1000,
    episodesPerSecond: llm.stats.completions / (ms / 1000),
    tokensPerSecond: tokens / (ms / 1000),
    tokens,
    requests: llm.stats.requests,
    rateLimited: llm.stats.rateLimited,
    tpmShare: (tokens - TPM) / (TPM * minutes),
    // the same from the server's side: its first request to its last answer (no process start, no tail)
    serverSeconds: (llm.stats.lastCompletionAt - llm.stats.firstRequestAt) / 1000,
    serverTpmShare: (tokens - TPM) / ((TPM * (llm.stats.lastCompletionAt - llm.stats.firstRequestAt)) / 60_000),
  };
}

async function ours() {
  const llm = await startFakeLlm({ limits: { tokensPerMinute: TPM, requestsPerMinute: RPM } });
  const dir = tempDir("syncwarden-bench-llm-");
  try {
    const items = Array.from({ length: EPISODES }, (_, i) => ({ key: `ep-${i}`, version: "v1", content: episode(i) }));
    writeFileSync(path.join(dir, "items.json"), JSON.stringify(items));
    writeFileSync(
      path.join(dir, "syncwarden.yaml"),
      `sync: { max_workers: ${WORKERS} }
providers:
  llm: { base_url: "${llm.url}/v1", api_key: "\${LLM_API_KEY}", timeout: 30 }
jobs:
  sessions:
    phases:
      - name: episodes
        source: { type: module, module: ${path.join(BENCH_DIR, "..", "test", "fixtures", "json-source.mjs")}, file: items.json }
        enrich: [{ type: llm-extract, provider: llm, model: fake-model, prompt: "${PROMPT}", max_output_tokens: ${MAX_OUTPUT} }]
        sink: { type: sqlite-docs, table: episodes }
`,
    );
    const t0 = now();
    const r = await runNode([CLI, "run", "--json"], {
      cwd: dir,
      echo: false,
      env: cleanEnv({ LLM_API_KEY: "sk-bench-0123456789" }),
    });
    const ms = now() - t0;
    if (r.code !== 0) throw new Error(`syncwarden run exited ${r.code}: ${r.stderr.slice(-500)}`);
    return figures(llm, ms);
  } finally {
    await llm.close();
    removeDir(dir);
  }
}

async function naive() {
  const llm = await startFakeLlm({ limits: { tokensPerMinute: TPM, requestsPerMinute: RPM } });
  try {
    let next = 0;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const worker = async () => {
      while (next < EPISODES) {
        const i = next++;
        for (let retry = 0; ; retry++) {
          const res = await fetch(`${llm.url}/v1/chat/completions`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: "Bearer sk-bench" },
            body: JSON.stringify({
              model: "fake-model",
              temperature: 0,
              max_tokens: MAX_OUTPUT,
              messages: [
                { role: "system", content: PROMPT },
                { role: "user", content: episode(i) },
              ],
              response_format: { type: "json_object" },
            }),
          });
          await res.text();
          if (res.ok) break;
          if (res.status !== 429) throw new Error(`chat/completions → ${res.status}`);
          await sleep(Math.random() * Math.min(5000, 100 * 2 ** retry));
        }
      }
    };
    const t0 = now();
    await Promise.all(Array.from({ length: WORKERS }, worker));
    return figures(llm, now() - t0);
  } finally {
    await llm.close();
  }
}

log(`llm: ${EPISODES} episodes, ${WORKERS} at once, fake server at ${TPM} tokens/min and ${RPM} requests/min`);
const results = { tpm: TPM, rpm: RPM, episodes: EPISODES, workers: WORKERS, ours: await ours() };
log(`llm: syncwarden done in ${results.ours.seconds}s; now the naive loop`);
results.naive = await naive();
const row = (name, f) =>
  `| ${name} | ${f.seconds} | ${f.episodesPerSecond.toFixed(2)} | ${f.tokensPerSecond.toFixed(0)} | ${f.tokens} | ${f.requests} | ${f.rateLimited} | ${f.tpmShare.toFixed(3)} | ${f.serverTpmShare.toFixed(3)} |`;
process.stdout.write(
  [
    `LLM extraction through the fake server (${TPM} TPM, ${RPM} RPM, ${EPISODES} episodes, ${WORKERS} at once)`,
    "",
    "| client | s | episodes/s | tokens/s | tokens | requests | 429s | share of TPM refill (wall) | (server's first request → last answer) |",
    "|---|---|---|---|---|---|---|---|---|",
    row("syncwarden llm-extract", results.ours),
    row("naive loop (backoff on 429)", results.naive),
    "",
    `target: share ≥ 0.95 with 0 × 429: wall ${results.ours.tpmShare >= 0.95 && results.ours.rateLimited === 0 ? "✓" : "✗"}, server window ${results.ours.serverTpmShare >= 0.95 && results.ours.rateLimited === 0 ? "✓" : "✗"}`,
    "",
  ].join("\n"),
);
mkdirSync(path.join(BENCH_DIR, "results"), { recursive: true });
writeFileSync(path.join(BENCH_DIR, "results", "llm.json"), JSON.stringify(results, null, 2) + "\n");
