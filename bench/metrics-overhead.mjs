// Section "metrics" (child process): engine throughput on no-op items without metrics, and with metrics
// subscribed to the event map plus a client scraping /metrics over loopback HTTP every second, rounds
// alternating in this one process. Usage: node bench/metrics-overhead.mjs N ROUNDS
import { cleanEnv, emitResult, log, now, removeDir, tempDir, writeNoopConfig } from "./lib.mjs";
import { loadConfig } from "../dist/index.js";
import { openServices } from "../dist/service/open-services.js";
import { startMetricsServer } from "../dist/daemon/metrics-server.js";

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 3);

async function round(withMetrics) {
  const dir = tempDir(withMetrics ? "metrics" : "plain");
  try {
    const loaded = loadConfig(writeNoopConfig(dir, N, 4), cleanEnv());
    const services = openServices(loaded, { metrics: withMetrics });
    let server;
    let scraper;
    let scrapes = 0;
    let scrapeMs = 0;
    if (withMetrics) {
      server = await startMetricsServer(services.metrics, { port: 0 });
      scraper = setInterval(() => {
        const t = now();
        void fetch(server.url)
          .then((r) => r.text())
          .then(() => {
            scrapes++;
            scrapeMs += now() - t;
          });
      }, 1000);
    }
    const t0 = now();
    const result = await services.sync.execute({ job: "bench", trigger: "api" });
    const ms = now() - t0;
    clearInterval(scraper);
    await server?.close();
    await services.close();
    if (result.status !== "completed" || result.phases[0]?.completed !== N)
      throw new Error(`engine run did not complete ${N} items: ${JSON.stringify(result)}`);
    return { ms, scrapes, meanScrapeMs: scrapes > 0 ? scrapeMs / scrapes : null };
  } finally {
    removeDir(dir);
  }
}

const plain = [];
const metrics = [];
for (let i = 0; i < ROUNDS; i++) {
  // alternate which goes first, so neither always runs on a warmer process
  for (const withMetrics of i % 2 === 0 ? [false, true] : [true, false]) {
    const r = await round(withMetrics);
    (withMetrics ? metrics : plain).push(r);
    log(
      `metrics overhead round ${i + 1}/${ROUNDS} ${withMetrics ? "with metrics + scrape/s" : "without metrics"}: ` +
        `${(r.ms / 1000).toFixed(2)}s (${Math.round(N / (r.ms / 1000))} items/s)` +
        (withMetrics ? `, ${r.scrapes} scrapes, mean ${r.meanScrapeMs?.toFixed(1)} ms` : ""),
    );
  }
}
emitResult({ items: N, plain, metrics });
