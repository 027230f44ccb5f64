// Section 9 helpers: timed child processes (bounded, with peak RSS), the syncwarden configuration of the
// github source jobs, and the replay of the fake GitHub's primary-limit windows over its request log.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { BENCH_DIR, DIST, ROOT, cleanEnv, now, removeDir, tempDir } from "./lib.mjs";

const RSS_HOOK = pathToFileURL(path.join(BENCH_DIR, "rss-hook.mjs")).href;

/**
 * Spawns `node --import rss-hook args`; resolves with exit code, stdout, stderr, wall time (spawn to exit) and
 * peak RSS. Killed (SIGKILL, this child only) after `timeoutMs`: `timedOut` is then set.
 */
export async function timedChild(args, { env = cleanEnv(), timeoutMs }) {
  const dir = tempDir("gh-rss");
  const rssFile = path.join(dir, "maxrss");
  try {
    const r = await new Promise((resolve, reject) => {
      const t0 = now();
      const child = spawn(process.execPath, ["--import", RSS_HOOK, ...args], {
        env: { ...env, BENCH_RSS_FILE: rssFile },
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const out = [];
      const err = [];
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      child.stdout.on("data", (b) => out.push(b));
      child.stderr.on("data", (b) => err.push(b));
      child.on("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        resolve({
          code,
          signal,
          timedOut,
          wallMs: now() - t0,
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
        });
      });
    });
    r.peakRssKiB = existsSync(rssFile) ? Number(readFileSync(rssFile, "utf8")) : undefined;
    return r;
  } finally {
    removeDir(dir);
  }
}

/** Whether the built github source schema knows an option (the schema is strict: unknown keys are refused). */
export async function sourceOption(name, value) {
  const { githubSourceSchema } = await import(pathToFileURL(path.join(DIST, "config", "sources-schema.js")).href);
  const base = { type: "github", repo: "o/r" };
  return (
    githubSourceSchema.safeParse(base).success &&
    githubSourceSchema.safeParse({ ...base, [name]: value }).success
  );
}

/**
 * syncwarden.yaml with one job per name in `jobs` (same state folder, so the processes running them share the
 * token's gate), each reading `repo` from the fake at `url` into its own sqlite-docs table. `extra` holds
 * further source options (written only when given).
 */
export function writeGithubConfig(dir, { url, jobs, repo = "o/r", concurrency = 4, reserve, extra = {} }) {
  const file = path.join(dir, "syncwarden.yaml");
  const lines = ["version: 1", "state_dir: state", "sync:", "  max_workers: 4", "jobs:"];
  for (const job of jobs) {
    lines.push(
      `  ${job}:`,
      "    phases:",
      "      - name: files",
      "        source:",
      "          type: github",
      `          repo: ${repo}`,
      '          token: "${GITHUB_TOKEN}"',
      `          base_url: ${JSON.stringify(url)}`,
      `          concurrency: ${concurrency}`,
      `          rate_limit_reserve: ${reserve}`,
      ...Object.entries(extra).map(([k, v]) => `          ${k}: ${JSON.stringify(v)}`),
      "        sink:",
      "          type: sqlite-docs",
      `          table: t_${job}`,
    );
  }
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

/** The SyncResult a `run --json` printed (the last JSON value on stdout; an array's first). */
export function syncResultOf(stdout, what) {
  const text = stdout.trim();
  const start = text.search(/^[[{]/m);
  try {
    const v = JSON.parse(start < 0 ? text : text.slice(start));
    return Array.isArray(v) ? v[0] : v;
  } catch {
    throw new Error(`${what}: expected the SyncResult as JSON on stdout, got: ${text.slice(-500)}`);
  }
}

/**
 * Replays the fake's primary-limit windows of one budget over its request log: a window opens at the first
 * counted request at or after the last one's end and ends `windowMs` later, rounded up to a whole second
 * (src/testing/fake-github-limits.ts). For every window: its start, end, counted requests and refusals.
 */
export function windowsOf(requests, token, windowMs) {
  const windows = [];
  for (const r of requests) {
    if (r.token !== token) continue;
    let w = windows.at(-1);
    if (r.counted && (!w || r.at >= w.end)) {
      w = { start: r.at, end: Math.ceil((r.at + windowMs) / 1000) * 1000, used: 0, refused: 0 };
      windows.push(w);
    }
    if (!w) continue;
    if (r.counted) w.used++;
    else if (r.status === 403 || r.status === 429) w.refused++;
  }
  return windows;
}

/**
 * The aggregate rate over the windows the run used up to the start of its last one, ÷ the limit:
 * Σ used ÷ Σ limit × (next start − start) ÷ (end − start). 1.00 = every window used to its limit and the
 * next one started the moment it could; lateness and unused budget both lower it. Undefined with one window.
 */
export function rateVsLimit(windows, limit) {
  if (windows.length < 2) return undefined;
  let used = 0;
  let allowed = 0;
  for (let k = 0; k < windows.length - 1; k++) {
    const w = windows[k];
    used += w.used;
    allowed += (limit * (windows[k + 1].start - w.start)) / (w.end - w.start);
  }
  return {
    ratio: used / allowed,
    fullWindows: windows.length - 1,
    usedShare: windows.slice(0, -1).map((w) => w.used / limit),
    lateMs: windows.slice(1).map((w, k) => w.start - windows[k].end),
  };
}
