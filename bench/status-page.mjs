// The status page's first load on loopback: `npm run build && node bench/status-page.mjs`.
//
// 100 jobs that have each run once, one of them with 10,000 DEAD items; then GET / (the HTML), then the
// first JSON the page asks for (/api/state and the first page of /api/items) with the token, one after
// the other as a cold client would. Prints p50/p95 of the whole load and of each request (target: the
// load ≤ 100 ms). BENCH_SCALE shrinks the counts; BENCH_REPS (default 200) sets the loads measured.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { BENCH_DIR, DIST, log, removeDir, scaled, tempDir } from "./lib.mjs";

const JOBS = scaled(100, 10);
const DEAD = scaled(10_000, 100);
const REPS = Number(process.env.BENCH_REPS ?? 200);
const TOKEN = "bench-status-page";

const dist = (p) => import(pathToFileURL(path.join(DIST, p)).href);
const { loadConfig } = await dist("config/load-config.js");
const { openServices } = await dist("service/open-services.js");
const { startWebServer } = await dist("web/web-server.js");

const dir = tempDir("syncwarden-bench-page-");
const module = (name) => path.join(BENCH_DIR, name);
const jobs = [`  dead-letters:
    phases:
      - name: items
        source: { type: module, module: ${module("noop-source.mjs")}, count: ${DEAD} }
        sink: { type: module, module: ${module("failing-sink.mjs")} }`];
for (let i = 1; i < JOBS; i++)
  jobs.push(`  job-${String(i).padStart(3, "0")}:
    phases:
      - name: items
        source: { type: module, module: ${module("noop-source.mjs")}, count: 10 }
        sink: { type: module, module: ${module("noop-sink.mjs")} }`);
writeFileSync(
  path.join(dir, "syncwarden.yaml"),
  `sync: { max_retries: 0, retry_wait_seconds: 0, max_workers: 8 }\njobs:\n${jobs.join("\n")}\n`,
);

const services = openServices(loadConfig(path.join(dir, "syncwarden.yaml")));
try {
  log(`status page: running ${JOBS} jobs (one with ${DEAD} dead items)`);
  for (const job of services.sync.jobNames()) await services.sync.execute({ job, trigger: "api" });
  const web = await startWebServer(services, { port: 0, token: TOKEN, log: () => undefined });
  const headers = { authorization: `Bearer ${TOKEN}` };
  const get = async (p) => {
    const res = await fetch(new URL(p, web.url), { headers });
    if (!res.ok) throw new Error(`${p}: ${res.status}`);
    return res.text();
  };
  const parts = { html: [], state: [], items: [], load: [], "items, last page": [] };
  // the cursor of the last page: page through once
  let last = 0;
  for (let after = 0; ; ) {
    const page = JSON.parse(await get(`/api/items?limit=200&after=${after}`));
    if (page.next === null) break;
    last = after = page.next;
  }
  let deadShown = 0;
  for (let i = 0; i < REPS + 10; i++) {
    const t0 = performance.now();
    await get("/");
    const t1 = performance.now();
    const state = JSON.parse(await get("/api/state"));
    const t2 = performance.now();
    const items = JSON.parse(await get("/api/items?limit=50"));
    const t3 = performance.now();
    if (i < 10) continue; // warm-up
    deadShown = state.jobs.reduce((n, j) => n + j.dead, 0);
    if (state.jobs.length !== JOBS || items.items.length !== 50) throw new Error("unexpected page data");
    parts.html.push(t1 - t0);
    parts.state.push(t2 - t1);
    parts.items.push(t3 - t2);
    parts.load.push(t3 - t0);
    const t4 = performance.now();
    await get(`/api/items?limit=50&after=${last}`);
    parts["items, last page"].push(performance.now() - t4);
  }
  await web.close();
  const q = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(1);
  };
  console.log(`| status page, ${JOBS} jobs, ${deadShown} dead items | p50 ms | p95 ms |`);
  console.log("|---|---|---|");
  for (const [name, xs] of Object.entries(parts)) console.log(`| ${name} | ${q(xs, 50)} | ${q(xs, 95)} |`);
} finally {
  await services.close();
  removeDir(dir);
}
