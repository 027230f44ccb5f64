// Section "metrics" (child process): engine throughput on no-op items without metrics, and with metrics
// subscribed to the event map, served by the status page's server, a client scraping /metrics over loopback
// HTTP every second and an open page: its SSE stream of the event map read to the end, /api/state and
// /api/items every 5 s, /api/chart every 30 s (what the page's script asks for). Rounds alternate in this one
// process. Usage: node bench/metrics-overhead.mjs N ROUNDS
import { cleanEnv, emitResult, log, now, removeDir, tempDir, writeNoopConfig } from "./lib.mjs";
import { loadConfig } from "../dist/index.js";
import { openServices } from "../dist/service/open-services.js";
import { metricsMount } from "../dist/service/metrics-handler.js";
import { startWebServer } from "../dist/web/web-server.js";

const TOKEN = "bench-metrics-token";
const auth = { authorization: `Bearer ${TOKEN}` };

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
    let page;
    let sse;
    let sseBytes = 0;
    let sseEvents = 0;
    if (withMetrics) {
      server = await startWebServer(services, {
        port: 0,
        token: TOKEN,
        log: () => undefined,
        mounts: { "/metrics": metricsMount(services.metrics) },
      });
      const at = (p) => new URL(p, server.url).href;
      scraper = setInterval(() => {
        const t = now();
        void fetch(at("/metrics"), { headers: auth })
          .then((r) => r.text())
          .then(() => {
            scrapes++;
            scrapeMs += now() - t;
          });
      }, 1000);
      // the open page: its event stream, and what its script reloads
      const abort = new AbortController();
      let connected;
      const opened = new Promise((resolve) => (connected = resolve));
      const decoder = new TextDecoder();
      sse = fetch(at("/events"), { headers: auth, signal: abort.signal })
        .then(async (r) => {
          for await (const chunk of r.body) {
            sseBytes += chunk.length;
            sseEvents += (decoder.decode(chunk, { stream: true }).match(/^event: /gm) ?? []).length;
            connected();
          }
        })
        .catch(() => undefined);
      sse.abort = abort;
      await opened;
      const reload = () =>
        void Promise.all([
          fetch(at("/api/state"), { headers: auth }).then((r) => r.text()),
          fetch(at("/api/items?limit=50"), { headers: auth }).then((r) => r.text()),
        ]);
      reload();
      page = [
        setInterval(reload, 5000),
        setInterval(() => void fetch(at("/api/chart"), { headers: auth }), 30_000),
      ];
    }
    const t0 = now();
    const result = await services.sync.execute({ job: "bench", trigger: "api" });
    const ms = now() - t0;
    clearInterval(scraper);
    for (const t of page ?? []) clearInterval(t);
    // the run's last events reach the page (or a second passes)
    for (let i = 0; sse && i < 20 && sseEvents < 2; i++) await new Promise((r) => setTimeout(r, 50));
    sse?.abort.abort();
    await sse;
    await server?.close();
    await services.close();
    if (result.status !== "completed" || result.phases[0]?.completed !== N)
      throw new Error(`engine run did not complete ${N} items: ${JSON.stringify(result)}`);
    return { ms, scrapes, meanScrapeMs: scrapes > 0 ? scrapeMs / scrapes : null, sseBytes, sseEvents };
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
        (withMetrics
          ? `, ${r.scrapes} scrapes, mean ${r.meanScrapeMs?.toFixed(1)} ms, ${r.sseEvents} SSE events (${r.sseBytes} bytes)`
          : ""),
    );
  }
}
emitResult({ items: N, plain, metrics, peakRssKiB: process.resourceUsage().maxRSS });
