// Section 9: the github source against the fake GitHub (dist/testing/fake-github.js), beside the naive walk with
// @octokit/rest + @octokit/plugin-throttling (bench/github-octokit.mjs), in the same run.
//   (a) counted requests, wall time, files/s and peak RSS per sync of a FILES-file repository: first run,
//       after CHANGED changed files, and with no change;
//   (b) three processes sharing one token of LIMIT requests per WINDOW s: the aggregate rate ÷ the limit and
//       the 403/429 responses, ours (three jobs on one state folder) beside three octokit-throttled processes.
// The fake runs in this process; every client is a child process. See bench/README.md, section 9.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { changeFiles, makeRepo } from "./github-repo.mjs";
import {
  rateVsLimit,
  sourceOption,
  syncResultOf,
  timedChild,
  windowsOf,
  writeGithubConfig,
} from "./github-lib.mjs";
import { BENCH_DIR, CLI, DIST, benchScale, cleanEnv, log, removeDir, tempDir } from "./lib.mjs";

const TOKEN = "ghp_syncwarden_bench_token";
const WARM = "ghp_syncwarden_bench_warm";
const OCTOKIT = path.join(BENCH_DIR, "github-octokit.mjs");
const CHILD_TIMEOUT_MS = 15 * 60_000;
// (b) runs ours with no reserve (all of the limit: the token's 4 in-flight calls are capped across the
// processes, so the gate keeps room for them) and with the default 5% kept back
const RESERVES = [0, 0.05];

/** Sizes: BENCH_SCALE shrinks the repository of (a), and (b)'s limit, window and per-process repository alike. */
export function githubSizes(scale = benchScale()) {
  const files = Math.max(200, Math.round(20_000 * scale));
  const window = Math.max(6, Math.round(60 * scale));
  return {
    files,
    changed: Math.min(100, Math.floor(files / 10)),
    // (b): GitHub's 5,000 requests an hour, with time compressed 60× (a minute for an hour) at scale 1
    limit: Math.max(500, Math.round(5000 * scale)),
    windowSeconds: window,
    sharedFiles: Math.max(400, Math.round(4_000 * scale)),
    processes: 3,
    // 900 points a minute (GitHub's secondary limit; a GET is a point), compressed as the window is
    pointsPerMinute: Math.round(900 * (3600 / window)),
  };
}

const env = () => cleanEnv({ GITHUB_TOKEN: TOKEN });

async function ours(config, job, what) {
  const r = await timedChild([CLI, "run", job, "-c", config, "--json"], {
    env: env(),
    timeoutMs: CHILD_TIMEOUT_MS,
  });
  if (r.timedOut) throw new Error(`${what}: still running after ${CHILD_TIMEOUT_MS / 1000} s`);
  if (r.code !== 0 && r.code !== 3)
    throw new Error(`${what} exited ${r.code ?? r.signal}:\n${r.stderr.slice(-2000)}`);
  const result = syncResultOf(r.stdout, what);
  const phase = result.phases?.[0] ?? {};
  return { ...r, result, phase, stdout: undefined, stderr: r.stderr.slice(-1000) };
}

async function octokit(url, deadlineSeconds, what, mode = "throttled") {
  const r = await timedChild([OCTOKIT, url, TOKEN, "o/r", "main", "4", String(deadlineSeconds), mode], {
    env: cleanEnv(),
    timeoutMs: (deadlineSeconds + 60) * 1000,
  });
  if (r.timedOut || r.code !== 0)
    throw new Error(`${what} exited ${r.code ?? r.signal}:\n${r.stderr.slice(-2000)}`);
  const line = r.stdout.trim().split("\n").pop();
  return { ...JSON.parse(line), wallMs: r.wallMs, peakRssKiB: r.peakRssKiB };
}

/** Every blob of HEAD fetched once with the warm-up token, so no contender pays the fake's cold git reads. */
async function warmUp(fake) {
  const h = { authorization: `token ${WARM}` };
  const get = async (p) => (await fetch(`${fake.url}${p}`, { headers: h })).json();
  const b = await get("/repos/o/r/branches/main");
  const t = await get(`/repos/o/r/git/trees/${b.commit.commit.tree.sha}?recursive=1`);
  const blobs = t.tree.filter((e) => e.type === "blob");
  let i = 0;
  const worker = async () => {
    while (i < blobs.length) await get(`/repos/o/r/git/blobs/${blobs[i++].sha}`);
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  fake.clearRequests();
}

/** One measured sync: the fake's log cleared, the contender run, its counted requests and statuses read. */
async function measured(fake, run) {
  fake.clearRequests();
  const r = await run();
  return { ...r, counted: fake.counted(TOKEN), statuses: fake.statusCounts() };
}

async function benchSyncs(start, sizes, dir, extra) {
  const { files, changed } = sizes;
  const repo = path.join(dir, "repo");
  log(`[9a] github: a repository of ${files} files (git fast-import)`);
  await makeRepo(repo, files);
  const fake = await start({
    repos: { "o/r": { dir: repo } },
    tokens: { [TOKEN]: { limit: 1e9 }, [WARM]: { limit: 1e9 } },
  });
  try {
    await warmUp(fake);
    const runDir = path.join(dir, "ours");
    mkdirSync(runDir);
    const config = writeGithubConfig(runDir, { url: fake.url, jobs: ["bench"], reserve: 0.05, extra });
    const steps = {};
    const step = async (id, what, expectDone) => {
      log(`[9a] ${what}: ours, then octokit's naive walk`);
      const o = await measured(fake, () => ours(config, "bench", `ours (${id})`));
      if (o.phase.completed !== expectDone || o.result.status !== "completed")
        throw new Error(
          `ours (${id}): ${o.result.status}, ${o.phase.completed} completed, expected ${expectDone}`,
        );
      const k = await measured(fake, () => octokit(fake.url, 900, `octokit (${id})`));
      if (k.files !== files || k.failed > 0)
        throw new Error(`octokit (${id}): ${k.files} of ${files} files, ${k.failed} failed: ${k.errors}`);
      log(
        `      ours ${o.counted} counted, ${Math.round(o.wallMs)} ms; octokit ${k.counted}, ${Math.round(k.wallMs)} ms`,
      );
      steps[id] = { ours: o, octokit: k, done: expectDone };
    };
    await step("first", `first sync of ${files} files`, files);
    // reference: the same walk without the throttling plugin (where octokit's time goes)
    const plain = await measured(fake, () => octokit(fake.url, 900, "octokit without throttling", "plain"));
    if (plain.files !== files)
      throw new Error(`octokit without throttling: ${plain.files} of ${files} files`);
    log(`      octokit without the throttling plugin: ${Math.round(plain.wallMs)} ms`);
    steps.first.octokitPlain = plain;
    await changeFiles(repo, files, changed, 1);
    await warmUp(fake);
    await step("changed", `sync after ${changed} changed files`, changed);
    await step("noChange", "sync with no change", 0);
    return steps;
  } finally {
    await fake.close();
  }
}

/** Runs `n` copies of `run(i)` at once; the fake's windows and log are fresh for them. */
async function shared(fake, sizes, n, run) {
  fake.resetWindows();
  fake.clearRequests();
  const t0 = Date.now();
  const procs = await Promise.all(Array.from({ length: n }, (_, i) => run(i)));
  const wallMs = Date.now() - t0;
  const windows = windowsOf(fake.requests, TOKEN, sizes.windowSeconds * 1000);
  const statuses = fake.statusCounts();
  return {
    procs,
    wallMs,
    windows,
    rate: rateVsLimit(windows, sizes.limit),
    counted: fake.counted(TOKEN),
    statuses,
    refusals: (statuses[403] ?? 0) + (statuses[429] ?? 0),
    peakRssKiB: Math.max(...procs.map((p) => p.peakRssKiB ?? 0)) || null,
  };
}

async function benchShared(start, sizes, dir, extra) {
  const { sharedFiles, limit, windowSeconds, processes } = sizes;
  const repo = path.join(dir, "shared-repo");
  await makeRepo(repo, sharedFiles);
  const fake = await start({
    repos: { "o/r": { dir: repo } },
    tokens: { [TOKEN]: { limit }, [WARM]: { limit: 1e9 } },
    windowSeconds,
  });
  const demand = processes * (sharedFiles + 3);
  const deadline = Math.ceil((demand / limit + 3) * windowSeconds) + 60;
  try {
    await warmUp(fake);
    const jobs = Array.from({ length: processes }, (_, i) => `p${i + 1}`);
    const ours_ = {};
    for (const reserve of RESERVES) {
      const runDir = path.join(dir, `shared-${reserve}`);
      mkdirSync(runDir);
      const config = writeGithubConfig(runDir, { url: fake.url, jobs, reserve, extra });
      // the state folder made first, so three processes do not race to create it
      await timedChild([CLI, "status", "-c", config], { env: env(), timeoutMs: 60_000 });
      log(
        `[9b] ${processes} syncwarden processes (rate_limit_reserve: ${reserve}), one token of ${limit} per ${windowSeconds} s, ${sharedFiles} files each`,
      );
      const o = await shared(fake, sizes, processes, (i) => ours(config, jobs[i], `ours (${jobs[i]})`));
      for (const p of o.procs)
        if (p.phase.completed !== sharedFiles)
          throw new Error(`ours (shared): ${p.phase.completed} of ${sharedFiles}`);
      log(
        `      ${(o.rate?.ratio ?? NaN).toFixed(3)}× the limit, ${o.refusals} × 403/429, ${Math.round(o.wallMs / 1000)} s`,
      );
      ours_[reserve] = { reserve, ...o };
    }
    log(`[9b] ${processes} octokit-throttled processes, the same token`);
    const k = await shared(fake, sizes, processes, (i) =>
      octokit(fake.url, deadline, `octokit (shared ${i + 1})`),
    );
    log(
      `      ${(k.rate?.ratio ?? NaN).toFixed(3)}× the limit, ${k.refusals} × 403/429, ${Math.round(k.wallMs / 1000)} s`,
    );
    return { ours: RESERVES.map((r) => ours_[r]), octokit: k, demand, deadlineSeconds: deadline };
  } finally {
    await fake.close();
  }
}

/** Section 9: (a) and (b). */
export async function benchGitHub(sizes = githubSizes()) {
  const { startFakeGitHub } = await import(pathToFileURL(path.join(DIST, "testing", "fake-github.js")).href);
  if (!(await sourceOption("repo", "o/r")))
    throw new Error(
      "dist/ has no github source schema: run `npm run build` on a tree with issue 15's source",
    );
  // the secondary limit's pacing, if this build has it, compressed as (b)'s window is; (a) the same
  const extra = (await sourceOption("points_per_minute", 1))
    ? { points_per_minute: sizes.pointsPerMinute }
    : {};
  const dir = tempDir("github");
  try {
    const syncs = await benchSyncs(startFakeGitHub, sizes, dir, extra);
    const sharedToken = await benchShared(startFakeGitHub, sizes, dir, extra);
    return { sizes, sourceOptions: extra, syncs, shared: sharedToken };
  } finally {
    removeDir(dir);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const x = await benchGitHub();
  process.stdout.write(JSON.stringify(x) + "\n");
}
