// syncwarden benchmark: `npm run bench` (builds, then runs this file).
//
// Every figure is measured beside a floor taken in the same run (DESIGN.md, "Performance doctrine"):
//   1. engine throughput on the SQLite ledger   vs the same transitions written straight to SQLite
//   2. peak RSS planning + completing 1M items   vs a process that only opens the ledger
//   3. git indexing (first run, no-change rerun) vs `git cat-file --batch` reading the same blobs
//   4. GETs against a rate-limited server        vs the server's limit, and a naive retry loop
//   5. per-call cost of the policy stack         vs cockatiel's retry + breaker + timeout, and a bare call
//   6. replicate 20,000 small files (first sync, no-change rerun, 100 changes per side)
//                                                 vs unison and rclone bisync on identical trees
//   7. vector search, 100,000 chunks × 384 dims: KNN (sqlite-vec) and hybrid p50/p95
//                                                 vs the exact linear scan KNN replaces (bench/vector-search.mjs)
//   8. code-aware chunking of 2,000 generated source files (tree-sitter)
//                                                 vs line windows and the ledger's size cuts (bench/chunking.mjs)
//   9. the github source against the fake GitHub: counted requests per sync of 20,000 files, and three
//      processes on one token's limit       vs @octokit/rest + plugin-throttling's naive walk (bench/github.mjs;
//                                             about 14 minutes, so not in the default set: BENCH_ONLY=github)
//  10. the PostgreSQL ledger: 1–8 worker processes on one 20,000-item plan, planning 1,000,000 items, a killed
//      worker's items, a worker's RSS on 1,000,000 items
//                                             vs graphile-worker and pg-boss on the same server (bench/postgres.mjs;
//                                             not in the default set: BENCH_ONLY=postgres)
//  11. the knowledge store at 10,000 episodes / 100,000 facts: keyword, vector, graph and fused search p50/p95,
//      and writing them (bench/knowledge.mjs; not in the default set: BENCH_ONLY=knowledge, and
//      BENCH_KNOWLEDGE=sqlite,postgres to measure the PostgreSQL ledger too)
// Prints a markdown table on stdout, progress on stderr, and writes bench/results/latest.json
// (results/github.json or results/postgres.json when only section 9 or 10 runs).
//
// Environment: BENCH_SCALE (default 1; e.g. 0.1 for a quick run) scales every size;
// BENCH_REPS (default 5) sets the rounds of sections 1 and 5;
// BENCH_ONLY=throughput,memory,git,ratelimit,overhead,replicas,vectors,chunking,github,postgres,knowledge picks
// sections (github, postgres and knowledge are not in the default set).
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { catFileFloor, listBlobs, makeRepo, writeGitConfig } from "./git.mjs";
import { benchGitHub } from "./github.mjs";
import { githubNote, githubRows } from "./github-rows.mjs";
import { knowledgeRows } from "./knowledge-rows.mjs";
import { benchReplicas } from "./replicas.mjs";
import { benchPostgres, postgresLimits, postgresNote, postgresRows } from "./postgres.mjs";
import {
  BENCH_DIR,
  CLI,
  DIST,
  benchScale,
  cleanEnv,
  lastJsonLine,
  log,
  median,
  now,
  removeDir,
  runNode,
  runProcess,
  scaled,
  tempDir,
} from "./lib.mjs";

const SCALE = benchScale();
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 5) || 5);
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? "throughput,memory,git,ratelimit,overhead,replicas,vectors,chunking")
    .split(",")
    .map((s) => s.trim()),
);
// Section 4: the fault server allows RATE_LIMIT.requests per fixed window; the clients issue
// windows × requests + 1 GETs, so a perfect client needs exactly `windows` windows (plus one request).
const RATE_LIMIT = { requests: 50, windowMs: 1000, windows: Math.max(2, Math.round(7 * SCALE)) };
const SIZES = {
  throughput: scaled(200_000),
  metrics: scaled(200_000),
  memory: scaled(1_000_000),
  git: scaled(20_000),
  ratelimit: RATE_LIMIT.windows * RATE_LIMIT.requests + 1,
  overhead: scaled(100_000),
  replicas: scaled(20_000),
};
const GIT_FIRST_RUNS = 3;
const CLI_RERUNS = 5;
const TARGETS = {
  throughputItemsPerSecond: 50_000,
  throughputRatio: 0.6,
  memoryPeakBytes: 200e6,
  rerunSeconds: 1,
  rateLimitRatio: 0.95,
  rateLimited429Share: 0.01,
  overheadRatio: 1,
};
// Section 4's clients, each against a fresh server (bench/ratelimit.mjs). The server's windows start at
// whole seconds (`aligned`), so its X-RateLimit-Reset, in whole seconds, is exact; the last variant runs
// against windows that start at a request, whose reset is rounded up (up to a second late): the client
// learns where they really end (src/resilience/window-estimate.ts), so it has the same targets.
const RATE_VARIANTS = [
  {
    id: "ours-rate",
    client: "ours-rate",
    aligned: true,
    what: "ours, `rate` set to the server's limit (burst 1)",
  },
  {
    id: "ours-headers",
    client: "ours-headers",
    aligned: true,
    what: "ours, no `rate`: Retry-After and X-RateLimit-* only",
  },
  {
    id: "naive",
    client: "naive",
    aligned: true,
    what: "naive loop: plain fetch, 429 → full-jitter backoff 100 ms–5 s, no gate",
  },
  {
    id: "ours-headers-unaligned",
    client: "ours-headers",
    aligned: false,
    what: "ours, no `rate`, windows that start at a request (reset rounded up to whole seconds)",
  },
];
const RSS_HOOK = pathToFileURL(path.join(BENCH_DIR, "rss-hook.mjs")).href;

// ---- small helpers ----------------------------------------------------------------------------

const range = (xs) => [Math.min(...xs), Math.max(...xs)];
const perSecond = (items, ms) => items / (ms / 1000);
const int = (n) => Math.round(n).toLocaleString("en-US");
const secs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const mb = (kib) => (kib === undefined || kib === null ? "n/a" : `${Math.round((kib * 1024) / 1e6)} MB`);
const ratio = (r, what) => `${r >= 0.1 ? r.toFixed(2) : r.toFixed(3)}× ${what}`;
const spread = ([lo, hi]) => ` (rounds ${lo.toFixed(2)}–${hi.toFixed(2)})`;
const mark = (ok) => (ok ? "✓" : "✗");

async function child(what, args, nodeArgs = []) {
  const r = await runNode(args, { nodeArgs });
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code ?? r.signal}):\n${r.stderr.slice(-2000)}`);
  return { ...lastJsonLine(r.stdout, what), wallMs: r.wallMs };
}

/** Spawns `node [--import rss-hook] args`, returning wall time (spawn to exit) and the child's peak RSS. */
async function timedNode(what, args, env = cleanEnv()) {
  const dir = tempDir("rss");
  const rssFile = path.join(dir, "maxrss");
  try {
    const r = await runNode(["--import", RSS_HOOK, ...args], {
      env: { ...env, BENCH_RSS_FILE: rssFile },
      echo: false,
    });
    if (r.code !== 0)
      throw new Error(`${what} failed (exit ${r.code ?? r.signal}):\n${r.stderr.slice(-2000)}`);
    const peak = existsSync(rssFile) ? Number(readFileSync(rssFile, "utf8")) : undefined;
    return { wallMs: r.wallMs, peakRssKiB: peak, stderr: r.stderr };
  } finally {
    removeDir(dir);
  }
}

// ---- 14. metrics overhead (BENCH_ONLY=metrics) ------------------------------------------------

async function benchMetrics() {
  const n = SIZES.metrics;
  log(`[metrics] ${int(n)} no-op items, ${REPS} rounds each without and with metrics + a scrape per second + an open status page (SSE)`);
  const r = await child("metrics overhead", [path.join(BENCH_DIR, "metrics-overhead.mjs"), String(n), String(REPS)]);
  const plainMs = median(r.plain.map((x) => x.ms));
  const metricsMs = median(r.metrics.map((x) => x.ms));
  const perRound = r.plain.map((p, i) => r.metrics[i].ms / p.ms - 1);
  const overhead = metricsMs / plainMs - 1;
  return {
    items: n,
    rounds: REPS,
    plain: { ms: plainMs },
    metrics: { ms: metricsMs },
    meanScrapeMs: median(r.metrics.map((x) => x.meanScrapeMs ?? 0)),
    sseEvents: median(r.metrics.map((x) => x.sseEvents ?? 0)),
    peakRssKiB: r.peakRssKiB,
    overhead,
    overheadRange: `${(Math.min(...perRound) * 100).toFixed(1)}–${(Math.max(...perRound) * 100).toFixed(1)}%`,
    met: overhead <= 0.03,
    perRound: r,
  };
}

// ---- 1. engine throughput ---------------------------------------------------------------------

async function benchThroughput() {
  const n = SIZES.throughput;
  const rounds = [];
  for (let i = 0; i < REPS; i++) {
    log(`[1/6] throughput round ${i + 1}/${REPS}: ${int(n)} items, raw floor then engine, one process`);
    // a fresh process per round (floor then engine in it); --expose-gc lets it settle the heap between them
    const r = await child(
      "throughput round",
      [path.join(BENCH_DIR, "throughput.mjs"), String(n)],
      ["--expose-gc"],
    );
    rounds.push(r);
    log(
      `      floor ${int(perSecond(n, r.floor.ms))} items/s, engine ${int(perSecond(n, r.engine.ms))} items/s ` +
        `(${(r.floor.ms / r.engine.ms).toFixed(2)}× floor)`,
    );
  }
  const floorMs = median(rounds.map((r) => r.floor.ms));
  const engineMs = median(rounds.map((r) => r.engine.ms));
  const engineIps = perSecond(n, engineMs);
  const floorIps = perSecond(n, floorMs);
  return {
    items: n,
    rounds: rounds.length,
    engine: {
      ms: engineMs,
      itemsPerSecond: engineIps,
      peakRssKiB: Math.max(...rounds.map((r) => r.engine.peakRssKiB)),
      progressEventsPerRun: median(rounds.map((r) => r.engine.progressEvents)),
      maxEventLoopStallMs: median(rounds.map((r) => r.engine.maxEventLoopStallMs)),
      stallShareOfRun: Math.min(...rounds.map((r) => r.engine.maxEventLoopStallMs / r.engine.ms)),
    },
    floor: {
      ms: floorMs,
      itemsPerSecond: floorIps,
      peakRssKiB: Math.max(...rounds.map((r) => r.floor.peakRssKiB)),
    },
    ratio: engineIps / floorIps,
    ratioRange: range(rounds.map((r) => r.floor.ms / r.engine.ms)),
    targets: { itemsPerSecond: TARGETS.throughputItemsPerSecond, ratio: TARGETS.throughputRatio },
    met: engineIps >= TARGETS.throughputItemsPerSecond && engineIps / floorIps >= TARGETS.throughputRatio,
    perRound: rounds,
  };
}

// ---- 2. memory --------------------------------------------------------------------------------

async function benchMemory() {
  const n = SIZES.memory;
  const script = path.join(BENCH_DIR, "memory-child.mjs");
  const floors = [];
  for (let i = 0; i < 3; i++) floors.push(await child("ledger-open floor", [script, "ledger"]));
  log(`[2/6] memory floor (open the ledger only): ${mb(median(floors.map((f) => f.maxRssKiB)))} peak RSS`);
  log(`[2/6] memory: plan and complete ${int(n)} items in a child process`);
  const eng = await child("memory run", [script, "engine", String(n)]);
  const floorKiB = median(floors.map((f) => f.maxRssKiB));
  log(`      peak RSS ${mb(eng.maxRssKiB)}, wall ${secs(eng.wallMs)}`);
  return {
    items: n,
    engine: {
      peakRssKiB: eng.maxRssKiB,
      wallMs: eng.wallMs,
      executeMs: eng.executeMs,
      itemsPerSecond: perSecond(n, eng.executeMs),
    },
    floor: { peakRssKiB: floorKiB, wallMs: median(floors.map((f) => f.wallMs)) },
    ratio: eng.maxRssKiB / floorKiB,
    targets: { peakBytes: TARGETS.memoryPeakBytes },
    met: eng.maxRssKiB * 1024 <= TARGETS.memoryPeakBytes,
  };
}

// ---- 3. git indexing --------------------------------------------------------------------------

async function benchGit() {
  const n = SIZES.git;
  const dir = tempDir("git");
  try {
    const repo = path.join(dir, "repo");
    log(`[3/6] git: generating a repository of ${int(n)} small text files (git fast-import)`);
    let t = now();
    const { head } = await makeRepo(repo, n);
    log(`      ${head.slice(0, 12)} in ${secs(now() - t)}`);
    const blobs = await listBlobs(repo);
    if (blobs.length !== n) throw new Error(`generated repository has ${blobs.length} blobs, expected ${n}`);
    const blobBytes = blobs.reduce((a, b) => a + b.size, 0);

    const floors = [];
    for (let i = 0; i < 3; i++) floors.push(await catFileFloor(repo, blobs));
    const floorMs = median(floors.map((f) => f.ms));
    log(`      floor: git cat-file --batch of ${int(n)} blobs in ${secs(floorMs)}`);

    // first run: a fresh state folder each round; the last one is kept for the no-change reruns
    const firsts = [];
    let config;
    for (let i = 0; i < GIT_FIRST_RUNS; i++) {
      const runDir = path.join(dir, `run${i}`);
      mkdirSync(runDir);
      config = writeGitConfig(runDir, repo);
      log(`[3/6] git first run ${i + 1}/${GIT_FIRST_RUNS}: index ${int(n)} files into sqlite-docs`);
      const r = await child("git first run", [path.join(BENCH_DIR, "git-first-run.mjs"), config, String(n)]);
      firsts.push(r);
      log(
        `      ${secs(r.first.ms)} (${int(perSecond(n, r.first.ms))} files/s), in-process rerun ${secs(r.rerunInProcess.ms)}`,
      );
      if (i < GIT_FIRST_RUNS - 1) rmSync(runDir, { recursive: true, force: true });
    }

    log(`[3/6] git no-change rerun via the CLI, ${CLI_RERUNS} times (wall time includes process start)`);
    const reruns = [];
    for (let i = 0; i < CLI_RERUNS; i++) {
      const r = await timedNode("syncwarden run (no change)", [CLI, "run", "-c", config]);
      if (!/\b0 completed\b/.test(r.stderr)) throw new Error(`the no-change rerun did work:\n${r.stderr}`);
      reruns.push(r);
    }
    const starts = [];
    for (let i = 0; i < CLI_RERUNS; i++) starts.push(await timedNode("node -e 0", ["-e", "0"]));
    const rerunMs = median(reruns.map((r) => r.wallMs));
    log(`      ${secs(rerunMs)} (node start alone: ${secs(median(starts.map((s) => s.wallMs)))})`);

    const firstMs = median(firsts.map((f) => f.first.ms));
    return {
      files: n,
      blobBytes,
      floor: {
        what: "git cat-file --batch, every blob's sha piped in, all output read",
        ms: floorMs,
        itemsPerSecond: perSecond(n, floorMs),
        peakRssKiB: Math.max(...floors.map((f) => f.peakRssKiB ?? 0)) || null,
      },
      firstRun: {
        ms: firstMs,
        itemsPerSecond: perSecond(n, firstMs),
        peakRssKiB: Math.max(...firsts.map((f) => f.first.peakRssKiB)),
        ratio: floorMs / firstMs,
        ratioRange: range(firsts.map((f) => floorMs / f.first.ms)),
        rounds: firsts.map((f) => f.first.ms),
      },
      rerunCli: {
        wallMs: rerunMs,
        peakRssKiB: Math.max(...reruns.map((r) => r.peakRssKiB ?? 0)) || null,
        ratioToFloor: rerunMs / floorMs,
        rounds: reruns.map((r) => r.wallMs),
        targets: { seconds: TARGETS.rerunSeconds },
        met: rerunMs <= TARGETS.rerunSeconds * 1000,
      },
      rerunInProcess: {
        ms: median(firsts.map((f) => f.rerunInProcess.ms)),
        ratioToFloor: median(firsts.map((f) => f.rerunInProcess.ms)) / floorMs,
      },
      nodeStartFloor: {
        what: "node -e 0, spawned the same way",
        wallMs: median(starts.map((s) => s.wallMs)),
        peakRssKiB: Math.max(...starts.map((s) => s.peakRssKiB ?? 0)) || null,
      },
    };
  } finally {
    removeDir(dir);
  }
}

// ---- 4. rate-limit efficiency -----------------------------------------------------------------

/**
 * Replays the server's fixed windows over its request log (a window opens at the first request after the
 * last one expired): how many windows the run touched, their 200s, and the time no request was answered
 * for longer than a tenth of a window (the client idling at its gate or in backoff).
 */
function windowsOf(entries, windowMs) {
  const windows = [];
  let idleMs = 0;
  let prev;
  for (const e of entries) {
    const last = windows.at(-1);
    if (!last || e.t - last.start >= windowMs) windows.push({ start: e.t, ok: 0, limited: 0 });
    const w = windows.at(-1);
    if (e.status === 200) w.ok++;
    else if (e.status === 429) w.limited++;
    if (prev !== undefined && e.t - prev > windowMs / 10) idleMs += e.t - prev;
    prev = e.t;
  }
  return {
    count: windows.length,
    okPerWindow: windows.map((w) => w.ok),
    limitedPerWindow: windows.map((w) => w.limited),
    idleMs,
  };
}

async function benchRateLimit() {
  const { startFaultServer } = await import(
    pathToFileURL(path.join(DIST, "testing", "fault-server.js")).href
  );
  const { requests, windowMs } = RATE_LIMIT;
  const n = SIZES.ratelimit;
  const limitPerSecond = requests / (windowMs / 1000);
  const script = path.join(BENCH_DIR, "ratelimit.mjs");
  // an unlimited server for each child's one warm-up fetch (not counted against any limit)
  const warm = await startFaultServer();
  const variants = {};
  try {
    for (const v of RATE_VARIANTS) {
      log(
        `[4/6] rate limit: ${int(n)} GETs, 4 workers, server allows ${requests} per ${secs(windowMs)}; ${v.what}`,
      );
      const server = await startFaultServer({ rateLimit: { requests, windowMs, aligned: v.aligned } });
      let r;
      try {
        r = await child(`rate-limit client (${v.id})`, [
          script,
          v.client,
          server.url,
          warm.url,
          String(requests),
          String(windowMs),
          String(n),
        ]);
      } finally {
        await server.close();
      }
      const s = server.stats;
      const ok = s.byStatus[200] ?? 0;
      // the client's own clock, first request to last response (r.wallMs would add the child's start)
      const rps = perSecond(ok, r.clientWallMs);
      const ours = v.client !== "naive";
      variants[v.id] = {
        what: v.what,
        alignedWindows: v.aligned,
        wallMs: r.clientWallMs,
        processWallMs: r.wallMs,
        successes: ok,
        failed: r.failed,
        errors: r.errors,
        serverRequests: s.requests,
        rateLimited: s.rateLimited,
        share429: s.requests > 0 ? s.rateLimited / s.requests : 0,
        byStatus: { ...s.byStatus },
        requestsPerSecond: rps,
        ratioToLimit: rps / limitPerSecond,
        peakRssKiB: r.maxRssKiB,
        serverWindows: windowsOf(server.log, windowMs),
        ...(ours
          ? { events: r.events, eventSamples: r.eventSamples, policyOptions: r.policyOptions }
          : { clientAttempts: r.clientAttempts, maxRetriesOfOneRequest: r.maxRetriesOfOneRequest }),
      };
      const x = variants[v.id];
      log(
        `      ${secs(x.wallMs)}, ${x.requestsPerSecond.toFixed(1)} ok/s = ${x.ratioToLimit.toFixed(2)}× the limit, ` +
          `${x.rateLimited} × 429 of ${x.serverRequests} requests, ${x.serverWindows.count} server windows, ` +
          `idle ${secs(x.serverWindows.idleMs)}, peak RSS ${mb(x.peakRssKiB)}` +
          (ours ? `, policy events ${JSON.stringify(x.events)}` : ""),
      );
      if (ours) {
        x.targets = { ratio: TARGETS.rateLimitRatio, share429: TARGETS.rateLimited429Share };
        x.met = x.ratioToLimit >= TARGETS.rateLimitRatio && x.share429 <= TARGETS.rateLimited429Share;
      }
    }
  } finally {
    await warm.close();
  }
  return {
    limit: { requests, windowMs, perSecond: limitPerSecond },
    windows: RATE_LIMIT.windows,
    requests: n,
    workers: 4,
    variants,
  };
}

// ---- 5. policy overhead -----------------------------------------------------------------------

async function benchOverhead() {
  const n = SIZES.overhead;
  const script = path.join(BENCH_DIR, "overhead.mjs");
  log(
    `[5/6] policy overhead: ${int(n)} sequential calls each, ours · cockatiel · floor, ${REPS} rounds, one process`,
  );
  const r = await child("policy overhead rounds", [script, String(n), String(REPS)], ["--expose-gc"]);
  // peak RSS per contender needs a process of its own (ours keeps memory for a while, see README)
  const alone = {};
  for (const who of ["ours", "cockatiel", "floor"]) {
    const a = await child(`policy overhead (${who} alone)`, [script, String(n), "1", who], ["--expose-gc"]);
    alone[who] = { nsPerCall: a.perRound[0][who], peakRssKiB: a.maxRssKiB };
    log(`[5/6] ${who} alone: ${int(alone[who].nsPerCall)} ns/call, peak RSS ${mb(a.maxRssKiB)}`);
  }
  const ns = (who) => median(r.perRound.map((x) => x[who]));
  const fig = (who) => ({
    nsPerCall: ns(who),
    callsPerSecond: 1e9 / ns(who),
    rounds: r.perRound.map((x) => x[who]),
    peakRssKiBAlone: alone[who].peakRssKiB,
    nsPerCallAlone: alone[who].nsPerCall,
  });
  const ours = fig("ours");
  const cockatiel = fig("cockatiel");
  const floor = fig("floor");
  const ratioOursCockatiel = ours.nsPerCall / cockatiel.nsPerCall;
  return {
    calls: n,
    warmup: r.warmup,
    rounds: r.rounds,
    ours,
    cockatiel,
    floor,
    ratio: ratioOursCockatiel,
    ratioRange: range(r.perRound.map((x) => x.ours / x.cockatiel)),
    netRatio: (ours.nsPerCall - floor.nsPerCall) / (cockatiel.nsPerCall - floor.nsPerCall),
    policyOptions: r.policyOptions,
    peakRssKiBAllRounds: r.maxRssKiB,
    perRound: r.perRound,
    targets: { ratio: TARGETS.overheadRatio },
    met: ratioOursCockatiel <= TARGETS.overheadRatio,
  };
}

// ---- the table --------------------------------------------------------------------------------

function table(r) {
  const rows = [
    "| Figure | Engine | Floor (same run) | Ratio | items/s: engine · floor | Peak RSS: engine · floor | Target |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  ];
  if (r.throughput) {
    const t = r.throughput;
    rows.push(
      `| 1. Engine throughput: ${int(t.items)} no-op items, SQLite ledger, max_workers 4 (median of ${t.rounds}) ` +
        `| ${secs(t.engine.ms)} | ${secs(t.floor.ms)} raw SQLite, same transitions ` +
        `| ${ratio(t.ratio, "floor speed")}${spread(t.ratioRange)} | ${int(t.engine.itemsPerSecond)} · ${int(t.floor.itemsPerSecond)} ` +
        `| ${mb(t.engine.peakRssKiB)} · ${mb(t.floor.peakRssKiB)} ` +
        `| ≥ ${int(t.targets.itemsPerSecond)} items/s ${mark(t.engine.itemsPerSecond >= t.targets.itemsPerSecond)}, ` +
        `≥ ${t.targets.ratio}× ${mark(t.ratio >= t.targets.ratio)} |`,
    );
  }
  if (r.memory) {
    const m = r.memory;
    rows.push(
      `| 2. Memory: plan + complete ${int(m.items)} no-op items (child process) ` +
        `| ${mb(m.engine.peakRssKiB)} peak, ${secs(m.engine.wallMs)} wall ` +
        `| ${mb(m.floor.peakRssKiB)} peak: a process that only opens the ledger ` +
        `| ${ratio(m.ratio, "floor RSS")} | ${int(m.engine.itemsPerSecond)} · – ` +
        `| ${mb(m.engine.peakRssKiB)} · ${mb(m.floor.peakRssKiB)} ` +
        `| ≤ ${Math.round(m.targets.peakBytes / 1e6)} MB ${mark(m.met)} |`,
    );
  }
  if (r.git) {
    const g = r.git;
    rows.push(
      `| 3a. Git first run: ${int(g.files)} files → sqlite-docs (median of ${g.firstRun.rounds.length}) ` +
        `| ${secs(g.firstRun.ms)} | ${secs(g.floor.ms)} git cat-file --batch, same blobs ` +
        `| ${ratio(g.firstRun.ratio, "floor speed")}${spread(g.firstRun.ratioRange)} | ${int(g.firstRun.itemsPerSecond)} · ${int(g.floor.itemsPerSecond)} ` +
        `| ${mb(g.firstRun.peakRssKiB)} · ${mb(g.floor.peakRssKiB)} (git) | – |`,
    );
    rows.push(
      `| 3b. Git no-change rerun: \`syncwarden run -c …\`, wall incl. process start (median of ${g.rerunCli.rounds.length}) ` +
        `| ${secs(g.rerunCli.wallMs)} | ${secs(g.floor.ms)} cat-file; ${secs(g.nodeStartFloor.wallMs)} \`node -e 0\` ` +
        `| ${ratio(g.rerunCli.ratioToFloor, "floor time")}; ${ratio(g.rerunCli.wallMs / g.nodeStartFloor.wallMs, "node start")} ` +
        `| – | ${mb(g.rerunCli.peakRssKiB)} · ${mb(g.nodeStartFloor.peakRssKiB)} (node -e 0) ` +
        `| ≤ ${g.rerunCli.targets.seconds} s ${mark(g.rerunCli.met)} |`,
    );
    rows.push(
      `| 3c. Git no-change rerun: \`service.execute\` in process | ${secs(g.rerunInProcess.ms)} | ${secs(g.floor.ms)} cat-file ` +
        `| ${ratio(g.rerunInProcess.ratioToFloor, "floor time")} | – | – | – |`,
    );
  }
  if (r.ratelimit) {
    const l = r.ratelimit;
    const limit = `${l.limit.requests} per ${l.limit.windowMs / 1000} s`;
    const naive = l.variants.naive;
    const share = (x) => `${(x.share429 * 100).toFixed(1)}%`;
    const outcome = (x) =>
      `${secs(x.wallMs)} over ${x.serverWindows.count} server windows; ` +
      `${x.rateLimited} × 429 of ${int(x.serverRequests)} requests (${share(x)})` +
      (x.failed > 0 ? `; ${x.failed} failed` : "");
    const limitCell = `${int(l.limit.perSecond)} req/s: the server's limit (${limit}, fixed windows from whole seconds)`;
    const head = (id, text) =>
      `| 4${id}. Rate limit: ${int(l.requests)} GETs, 4 workers, server allows ${limit}; ${text} `;
    for (const [id, key, text] of [
      ["a", "ours-rate", `ours, \`rate: ${limit}, burst 1\``],
      ["b", "ours-headers", "ours, no `rate` (Retry-After + X-RateLimit-* only)"],
    ]) {
      const x = l.variants[key];
      if (!x) continue;
      rows.push(
        head(id, text) +
          `| ${outcome(x)} | ${limitCell} ` +
          `| ${ratio(x.ratioToLimit, "the limit")}` +
          (naive ? `; ${ratio(x.requestsPerSecond / naive.requestsPerSecond, "naive's rate")}` : "") +
          ` | ${x.requestsPerSecond.toFixed(1)} · ${int(l.limit.perSecond)} ` +
          `| ${mb(x.peakRssKiB)} · ${naive ? `${mb(naive.peakRssKiB)} (naive)` : "–"} ` +
          `| ≥ ${x.targets.ratio}× ${mark(x.ratioToLimit >= x.targets.ratio)}, ` +
          `≤ ${x.targets.share429 * 100}% 429 ${mark(x.share429 <= x.targets.share429)} |`,
      );
    }
    if (naive) {
      rows.push(
        head("c", "naive loop: plain fetch, 429 → full-jitter backoff 100 ms–5 s (reference)") +
          `| ${outcome(naive)} | ${limitCell} | ${ratio(naive.ratioToLimit, "the limit")} ` +
          `| ${naive.requestsPerSecond.toFixed(1)} · ${int(l.limit.perSecond)} | ${mb(naive.peakRssKiB)} · – | – |`,
      );
    }
    const late = l.variants["ours-headers-unaligned"];
    if (late) {
      rows.push(
        head(
          "d",
          "ours, no `rate`, against windows that start at a request (X-RateLimit-Reset rounded up to whole seconds)",
        ) +
          `| ${outcome(late)} | ${int(l.limit.perSecond)} req/s: the server's limit (${limit}, each window from its first request) ` +
          `| ${ratio(late.ratioToLimit, "the limit")} | ${late.requestsPerSecond.toFixed(1)} · ${int(l.limit.perSecond)} ` +
          `| ${mb(late.peakRssKiB)} · – ` +
          `| ≥ ${late.targets.ratio}× ${mark(late.ratioToLimit >= late.targets.ratio)}, ` +
          `≤ ${late.targets.share429 * 100}% 429 ${mark(late.share429 <= late.targets.share429)} |`,
      );
    }
  }
  if (r.metrics) {
    const m = r.metrics;
    const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;
    rows.push(
      `| 14. Metrics overhead: ${int(m.items)} no-op items, max_workers 4, with metrics subscribed and a client ` +
        `scraping /metrics every second, the status page open (its SSE stream, state and items every 5 s) ` +
        `(median of ${m.rounds}, rounds alternating in one process) ` +
        `| ${sec(m.metrics.ms)} (mean scrape ${m.meanScrapeMs.toFixed(1)} ms) | ${sec(m.plain.ms)} without metrics ` +
        `| ${((m.overhead) * 100).toFixed(1)}% slower (rounds ${m.overheadRange}) ` +
        `| ${int(perSecond(m.items, m.metrics.ms))} · ${int(perSecond(m.items, m.plain.ms))} ` +
        `| ${m.peakRssKiB ? `${Math.round(m.peakRssKiB / 1024)} MB (the process, both kinds of round)` : "–"} | ≤ 3% ${m.met ? "✓" : "✗"} |`,
    );
  }
  if (r.overhead) {
    const o = r.overhead;
    const ns = (x) => `${int(x)} ns/call`;
    rows.push(
      `| 5. Policy overhead: \`policy.execute(async () => 1)\`, closed breaker on SQLite, default provider ` +
        `settings; ${int(o.calls)} sequential calls (median of ${o.rounds}) ` +
        `| ${ns(o.ours.nsPerCall)} | ${ns(o.cockatiel.nsPerCall)} cockatiel retry + breaker + timeout; ` +
        `${ns(o.floor.nsPerCall)} \`async () => 1\` called directly ` +
        `| ${o.ratio.toFixed(3)}× cockatiel time${spread(o.ratioRange)} ` +
        `| ${int(o.ours.callsPerSecond)} · ${int(o.cockatiel.callsPerSecond)} (cockatiel) ` +
        `| ${mb(o.ours.peakRssKiBAlone)} · ${mb(o.cockatiel.peakRssKiBAlone)} (cockatiel), each alone ` +
        `| ≤ ${o.targets.ratio}× cockatiel ${mark(o.met)} |`,
    );
  }
  if (r.replicas) rows.push(...replicaRows(r.replicas));
  if (r.vectors) rows.push(...vectorRows(r.vectors));
  if (r.chunking) rows.push(...chunkingRows(r.chunking));
  if (r.github) rows.push(...githubRows(r.github));
  if (r.postgres) rows.push(...postgresRows(r.postgres));
  if (r.knowledge) rows.push(...knowledgeRows(r.knowledge));
  const notes = [];
  if (r.throughput) {
    const e = r.throughput.engine;
    notes.push(
      `Engine run (1): the longest stretch without an event-loop turn was ${secs(e.maxEventLoopStallMs)} (median), ` +
        `at least ${Math.round(e.stallShareOfRun * 100)}% of each run; ${e.progressEventsPerRun} progress event(s) ` +
        `per run (2 s interval). Ratios: engine items/s ÷ floor items/s (speed), engine ÷ floor (RSS, time). ` +
        `MB = 10^6 bytes.`,
    );
  }
  if (r.ratelimit) {
    const l = r.ratelimit;
    notes.push(
      `Rate limit (4): ${int(l.requests)} = ${l.windows} windows × ${l.limit.requests} + 1 requests, so a client that ` +
        `uses every window fully (or spaces its calls evenly) finishes in ${l.windows} windows: ≈ 1.00× the limit. ` +
        `Ratio = successful requests per second (first request to last response, client side) ÷ ` +
        `${int(l.limit.perSecond)}/s; 429 share = 429s ÷ all requests the server saw. Peak RSS: the client ` +
        `process's maxRSS (process-wide: Node, fetch, and SQLite for ours); the server runs in the bench process.`,
    );
  }
  if (r.overhead) {
    const o = r.overhead;
    notes.push(
      `Policy overhead (5): rounds alternate the order of ours, cockatiel and the bare call in one process; ` +
        `ours minus the bare call ÷ cockatiel minus the bare call = ${o.netRatio.toFixed(2)}. Peak RSS: a ` +
        `separate process per contender (warm-up + ${int(o.calls)} calls); the bare call alone: ` +
        `${mb(o.floor.peakRssKiBAlone)}.`,
    );
  }
  if (r.replicas) {
    const x = r.replicas;
    notes.push(
      `Replicas (6): each tool on its own copy of the same generated tree (${int(x.files)} files of 10–200 bytes in ` +
        `folders of 100), in the same run; each run a fresh process (wall time and peak RSS by bench/maxrss.py); ` +
        `(b) median of ${x.reruns}, (c) median of ${x.changeRounds} rounds of ${x.changesPerSide} changed files per side. ` +
        `Ratio = peer's wall time ÷ ours (> 1: ours is faster). Verified: ${x.verified}. ` +
        Object.entries(x.commands)
          .map(([id, c]) => `${id}: \`${c}\``)
          .join("; ") +
        (x.missing.length > 0 ? `. Not installed, so not measured: ${x.missing.join(", ")}.` : "."),
    );
  }
  if (r.github) notes.push(githubNote(r.github));
  if (r.postgres) notes.push(postgresNote(r.postgres));
  const limits = r.postgres && postgresLimits(r.postgres) ? `\n\n${postgresLimits(r.postgres)}` : "";
  return rows.join("\n") + (notes.length > 0 ? `\n\n${notes.join("\n")}` : "") + limits;
}

/** Section 6's rows: (a) first sync, (b) no-change rerun, (c) changes on both sides; ours vs unison and rclone. */
function replicaRows(x) {
  const ours = x.tools.syncwarden;
  const peers = ["unison", "rclone"].filter((p) => x.tools[p]);
  const steps = [
    ["a", "first", `first sync of ${int(x.files)} small files into an empty folder`],
    ["b", "noChange", "rerun, no changes"],
    ["c", "changed", `rerun after ${x.changesPerSide} files changed on each side`],
  ];
  const rows = steps.map(([id, key, what]) => {
    const o = ours[key];
    const peerCell =
      peers.map((p) => `${secs(x.tools[p][key].wallMs)} ${p}`).join("; ") || "– (peers not installed)";
    const ratios =
      peers.map((p) => ratio(x.tools[p][key].wallMs / o.wallMs, `${p}'s speed`)).join("; ") || "–";
    const ips =
      key === "first"
        ? `${int(o.itemsPerSecond)} · ${peers.map((p) => int(x.tools[p].first.itemsPerSecond)).join(" · ")}`
        : "–";
    const rss = `${mb(o.peakRssKiB)} · ${peers.map((p) => `${mb(x.tools[p][key].peakRssKiB)} (${p})`).join(" · ")}`;
    const unison = x.tools.unison;
    const target = unison
      ? `faster than unison ${mark(o.wallMs < unison[key].wallMs)}`
      : "faster than unison: not measured";
    return `| 6${id}. Replicate: ${what} (\`syncwarden replicate\`, bidirectional) | ${secs(o.wallMs)} | ${peerCell} | ${ratios} | ${ips} | ${rss} | ${target} |`;
  });
  const inp = ours.inProcess;
  if (inp && x.tools.unison) {
    const u = x.tools.unison;
    for (const [id, key, what] of [
      ["b′", "noChange", "rerun, no changes"],
      ["c′", "changed", `rerun after ${x.changesPerSide} files changed on each side`],
    ])
      rows.push(
        `| 6${id}. Replicate in a long-lived process (\`ReplicaService.replicate()\` from the library, as the daemon runs it): ${what} ` +
          `| ${secs(inp[key].ms)} | ${secs(u[key].wallMs)} unison (its process start included) ` +
          `| ${ratio(u[key].wallMs / inp[key].ms, "unison's speed")} | – | – | – |`,
      );
  }
  return rows;
}

// ---- main -------------------------------------------------------------------------------------

function machine() {
  const cpus = os.cpus();
  const mem = new Database(":memory:");
  const sqlite = mem.prepare("SELECT sqlite_version() AS v").get().v;
  mem.close();
  const pkg = (name) =>
    JSON.parse(readFileSync(path.join(BENCH_DIR, "..", "node_modules", name, "package.json"), "utf8"))
      .version;
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cores: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    sqlite,
    betterSqlite3: pkg("better-sqlite3"),
    cockatiel: pkg("cockatiel"),
  };
}

/** Section 7 in a process of its own (its peak RSS is its own): bench/vector-search.mjs. */
async function benchVectors() {
  log("[7] vector search: KNN and hybrid vs the linear scan");
  const r = await runNode([path.join(BENCH_DIR, "vector-search.mjs")]);
  if (r.code !== 0) throw new Error(`vector-search.mjs exited ${r.code}: ${r.stderr.slice(-500)}`);
  return lastJsonLine(r.stdout, "vector-search.mjs");
}

function vectorRows(v) {
  const ms = (x) => `${x.p50Ms.toFixed(1)} / ${x.p95Ms.toFixed(1)} ms`;
  const qps = (x) => int(1000 / x.p50Ms);
  const per = `${int(v.chunks)} chunks × ${v.dim}`;
  return [
    `| 7. semantic search, ${per}, top ${v.limit} (p50 / p95) | KNN (sqlite-vec vec0) ${ms(v.knn)} ` +
      `| linear scan ${ms(v.linear)} | ${(v.linear.p50Ms / v.knn.p50Ms).toFixed(1)}× faster (p50); same top ${v.limit} in ${v.knnAgreesWithLinear} ` +
      `| ${qps(v.knn)} · ${qps(v.linear)} queries/s | ${mb(v.knn.peakRssKiB)} · ${mb(v.linear.peakRssKiB)} | – |`,
    `| 7. hybrid search (bm25 + KNN, RRF k=60), ${per} | ${ms(v.hybrid)} | linear scan ${ms(v.linear)} ` +
      `| ${(v.linear.p50Ms / v.hybrid.p50Ms).toFixed(1)}× faster (p50) | ${qps(v.hybrid)} · ${qps(v.linear)} queries/s ` +
      `| ${mb(v.hybrid.peakRssKiB)} · – | – |`,
    `| 7. writing ${per} with their vectors | index in step | no index | ${(v.write.indexedPerSecond / v.write.plainPerSecond).toFixed(2)}× ` +
      `| ${int(v.write.indexedPerSecond)} · ${int(v.write.plainPerSecond)} | ${mb(v.write.peakRssKiB)} · – | – |`,
  ];
}

/** Section 11 in a process of its own: bench/knowledge.mjs (BENCH_KNOWLEDGE=sqlite,postgres for both ledgers). */
async function benchKnowledge() {
  log("[11] knowledge store: keyword, vector, graph and fused search at 10,000 episodes / 100,000 facts");
  const r = await runNode([path.join(BENCH_DIR, "knowledge.mjs")]);
  if (r.code !== 0) throw new Error(`knowledge.mjs exited ${r.code}: ${r.stderr.slice(-500)}`);
  return lastJsonLine(r.stdout, "knowledge.mjs");
}

/** Section 8 in a process of its own (its peak RSS is its own): bench/chunking.mjs. */
async function benchChunking() {
  log("[8] code-aware chunking vs line windows");
  const r = await runNode([path.join(BENCH_DIR, "chunking.mjs")]);
  if (r.code !== 0) throw new Error(`chunking.mjs exited ${r.code}: ${r.stderr.slice(-500)}`);
  const c = lastJsonLine(r.stdout, "chunking.mjs");
  if (c.filesWhole !== c.files)
    throw new Error(`chunking.mjs: only ${c.filesWhole} of ${c.files} files chunked whole`);
  return c;
}

function chunkingRows(c) {
  const what = `${int(c.files)} generated source files (py, ts, go, js; ${(c.bytes / 1e6).toFixed(1)} MB, ${int(c.lines)} lines)`;
  const per = (x) => `${int(x.filesPerSecond)} files/s, ${int(x.chunksPerSecond)} chunks/s`;
  const run = c.indexing;
  return [
    `| 8a. Code-aware chunking: ${what}, in process, median of ${c.rounds} ` +
      `| ${c.code.seconds.toFixed(2)} s; ${int(c.code.chunks)} chunks, ${int(c.code.named)} named by a symbol ` +
      `| ${(c.windows.seconds * 1000).toFixed(0)} ms line windows (${int(c.windows.chunks)} chunks); ` +
      `${(c.sizeCuts.seconds * 1000).toFixed(0)} ms size cuts; ${c.parse.seconds.toFixed(2)} s tree-sitter's parse alone ` +
      `| ${(c.windows.seconds / c.code.seconds).toFixed(4)}× line windows' speed; ${(c.parse.seconds / c.code.seconds).toFixed(2)}× the parse alone's; grammars' first load ${int(c.loadMs)} ms ` +
      `| ${per(c.code)} · ${per(c.windows)} | ${mb(c.code.peakRssKiB)} · ${mb(c.windows.peakRssKiB)} | – |`,
    `| 8b. \`syncwarden run\`, first run: the same files from a git repository → sqlite-docs (wall, incl. process start) ` +
      `| ${run.code.seconds.toFixed(2)} s as source (code-aware) | ${run.text.seconds.toFixed(2)} s as \`.txt\` (line windows) ` +
      `| ${(run.text.seconds / run.code.seconds).toFixed(2)}× the .txt run's speed | ${int(run.code.filesPerSecond)} · ${int(run.text.filesPerSecond)} | – | – |`,
  ];
}

async function main() {
  if (!existsSync(path.join(DIST, "index.js")))
    throw new Error("dist/ is missing: run `npm run build` (or `npm run bench`)");
  const started = now();
  const gitVersion = (await runProcess("git", ["--version"])).stdout.trim();
  const commit = (await runProcess("git", ["rev-parse", "--short", "HEAD"])).stdout.trim() || null;
  // uncommitted changes under src/ at the start of the run (what dist/ was presumably built from)
  const srcChanges = (await runProcess("git", ["status", "--porcelain", "--", "src"])).stdout
    .split("\n")
    .filter(Boolean).length;
  const meta = {
    ...machine(),
    git: gitVersion,
    commit,
    srcChanges,
    date: new Date().toISOString(),
    scale: SCALE,
    reps: REPS,
    sizes: SIZES,
  };
  log(
    `node ${meta.node}, ${meta.cores} cores, ${meta.cpuModel}, SQLite ${meta.sqlite}, ${gitVersion}, BENCH_SCALE=${SCALE}`,
  );

  const results = {};
  if (ONLY.has("throughput")) results.throughput = await benchThroughput();
  if (ONLY.has("memory")) results.memory = await benchMemory();
  if (ONLY.has("git")) results.git = await benchGit();
  if (ONLY.has("ratelimit")) results.ratelimit = await benchRateLimit();
  if (ONLY.has("overhead")) results.overhead = await benchOverhead();
  if (ONLY.has("replicas")) results.replicas = await benchReplicas({ files: SIZES.replicas });
  if (ONLY.has("vectors")) results.vectors = await benchVectors();
  if (ONLY.has("chunking")) results.chunking = await benchChunking();
  if (ONLY.has("github")) results.github = await benchGitHub();
  if (ONLY.has("postgres")) results.postgres = await benchPostgres();
  if (ONLY.has("knowledge")) results.knowledge = await benchKnowledge();
  if (ONLY.has("metrics")) results.metrics = await benchMetrics();
  meta.durationSeconds = Math.round((now() - started) / 100) / 10;

  const md = table(results);
  process.stdout.write(
    `\nsyncwarden bench — ${meta.date.slice(0, 10)}, node ${meta.node}, ${meta.cores} cores (${meta.cpuModel}), ` +
      `BENCH_SCALE=${SCALE}, ${meta.durationSeconds} s\n\n${md}\n`,
  );

  const outDir = path.join(BENCH_DIR, "results");
  mkdirSync(outDir, { recursive: true });
  // section 9 or 10 alone keeps its own file, so a run of it does not replace the full run's figures
  const alone =
    ONLY.size === 1
      ? { github: "github.json", postgres: "postgres.json", knowledge: "knowledge.json", metrics: "metrics.json" }[[...ONLY][0]]
      : undefined;
  const out = path.join(outDir, alone ?? "latest.json");
  writeFileSync(out + ".tmp", JSON.stringify({ meta, results, table: md }, null, 2) + "\n");
  renameSync(out + ".tmp", out);
  log(`wrote ${path.relative(process.cwd(), out)} (${meta.durationSeconds} s in all)`);
}

main().catch((e) => {
  process.stderr.write(`[bench] failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
