// Section 4 (child process): N GETs through 4 workers against a rate-limited fault server that the
// parent (run.mjs) started, so the server's work is not on this process's event loop or in its RSS.
// Usage: node bench/ratelimit.mjs VARIANT URL WARM_URL REQUESTS WINDOW_MS N
//   ours-rate     HttpClient over a ProviderPolicy with `rate: REQUESTS per WINDOW_MS, burst 1`
//   ours-headers  the same without `rate` (Retry-After and X-RateLimit-* only)
//   naive         plain fetch; on 429 sleep full-jitter exponential backoff (base 100 ms, cap 5 s), retry
// One fetch to WARM_URL (an unlimited server) first, so loading fetch is not timed. Prints one JSON line.
import path from "node:path";
import { emitResult, now, removeDir, tempDir } from "./lib.mjs";
import { EventBus, openLedger } from "../dist/index.js";
import { providerSchema } from "../dist/config/provider-schema.js";
import { syncSchema } from "../dist/config/schema.js";
import { HttpClient } from "../dist/resilience/http-client.js";
import { ProviderPolicy } from "../dist/resilience/policy.js";
import { policyOptions } from "../dist/resilience/providers.js";

const [variant, url, warmUrl, requestsArg, windowArg, nArg] = process.argv.slice(2);
const R = Number(requestsArg);
const W = Number(windowArg);
const N = Number(nArg);
const WORKERS = 4;
const PATH = "/products?page=1&per_page=1";
const NAIVE = { baseMs: 100, capMs: 5000 };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** WORKERS loops sharing one counter until N requests have been issued; `one()` must end in a success. */
async function drive(one) {
  let issued = 0;
  let failed = 0;
  const errors = [];
  const worker = async () => {
    while (issued < N) {
      issued++;
      try {
        await one();
      } catch (e) {
        failed++;
        if (errors.length < 3) errors.push(e instanceof Error ? e.message : String(e));
      }
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return { clientWallMs: now() - t0, failed, errors };
}

async function naive() {
  let attempts = 0;
  let maxRetries = 0;
  const run = await drive(async () => {
    for (let retry = 0; ; retry++) {
      attempts++;
      const res = await fetch(url + PATH, { headers: { accept: "application/json" } });
      await res.text();
      if (res.ok) {
        maxRetries = Math.max(maxRetries, retry);
        return;
      }
      if (res.status !== 429) throw new Error(`GET ${PATH} → ${res.status}`);
      await sleep(Math.random() * Math.min(NAIVE.capMs, NAIVE.baseMs * 2 ** retry));
    }
  });
  return { ...run, clientAttempts: attempts, maxRetriesOfOneRequest: maxRetries };
}

async function ours(withRate) {
  const dir = tempDir("ratelimit");
  const ledger = openLedger({ stateDir: dir });
  try {
    // the default provider settings, as `providers: { api: { base_url, concurrency: 4[, rate] } }` gives them
    const provider = providerSchema.parse({
      base_url: url,
      concurrency: WORKERS,
      ...(withRate ? { rate: { requests: R, per_seconds: W / 1000, burst: 1 } } : {}),
    });
    const options = policyOptions(provider, syncSchema.parse({}), true);
    const events = { RETRY: 0, CIRCUIT: 0, RATE: 0 };
    const samples = [];
    const bus = new EventBus();
    const KIND = { "retry:attempt": "RETRY", "breaker:transition": "CIRCUIT", "gate:pause": "RATE" };
    bus.on((e) => {
      const kind = KIND[e.type];
      if (!kind) return;
      events[kind]++;
      if (samples.length < 5) samples.push(`[${kind}] ${JSON.stringify(e)}`);
    });
    const policy = new ProviderPolicy("bench", ledger.resilience, options, `bench:${process.pid}`, bus);
    const client = new HttpClient(policy, { baseUrl: url });
    const run = await drive(() => client.getJson(PATH));
    return { ...run, policyOptions: options, events, eventSamples: samples };
  } finally {
    await ledger.close();
    removeDir(dir);
  }
}

await (await fetch(warmUrl + PATH)).text();
let result;
if (variant === "naive") result = await naive();
else if (variant === "ours-rate") result = await ours(true);
else if (variant === "ours-headers") result = await ours(false);
else throw new Error(`unknown variant ${variant}`);
emitResult({ variant, requests: N, ...result, maxRssKiB: process.resourceUsage().maxRSS });
