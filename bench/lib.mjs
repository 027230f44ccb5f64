// Shared helpers for the syncwarden benchmark (bench/run.mjs and its child scripts).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(BENCH_DIR, "..");
export const DIST = path.join(ROOT, "dist");
export const CLI = path.join(DIST, "cli", "main.js");

/** BENCH_SCALE (default 1) shrinks or grows every size for a quick run. */
export function benchScale() {
  const raw = process.env.BENCH_SCALE;
  if (raw === undefined || raw.trim() === "") return 1;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0)
    throw new Error(`BENCH_SCALE=${JSON.stringify(raw)}: expected a positive number`);
  return s;
}

export function scaled(n, min = 100) {
  return Math.max(min, Math.round(n * benchScale()));
}

export function log(...parts) {
  process.stderr.write(`[bench] ${parts.join(" ")}\n`);
}

/**
 * The environment without the variables that change syncwarden's behaviour (SYNC_* overrides,
 * SYNCWARDEN_CONFIG / SYNCWARDEN_STATE_DIR), so a developer's shell does not skew the figures.
 */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("SYNC_") || k.startsWith("SYNCWARDEN_")) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

export function tempDir(prefix) {
  return mkdtempSync(path.join(tmpdir(), `syncwarden-bench-${prefix}-`));
}

export function removeDir(dir) {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** A seeded generator (mulberry32): every run makes the same data. */
export function random(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function now() {
  return performance.now();
}

// ---- peak RSS ---------------------------------------------------------------------------------
// Linux keeps a per-process high-water mark (VmHWM); writing "5" to /proc/self/clear_refs resets it
// to the current RSS, so one process can measure the peak of each of several phases in turn.

let canReset;

/** Resets this process's peak-RSS mark; false where the OS does not allow it. */
export function resetPeakRss() {
  if (canReset === false) return false;
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    canReset = true;
  } catch {
    canReset = false;
  }
  return canReset;
}

/** This process's peak RSS in KiB since start or the last successful resetPeakRss(). */
export function peakRssKiB() {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS;
}

/** The peak RSS (KiB) of another live process, from /proc; undefined where unavailable. */
export function peakRssOfPid(pid) {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function currentRssKiB() {
  return Math.round(process.memoryUsage.rss() / 1024);
}

// ---- configs ----------------------------------------------------------------------------------

/** A syncwarden.yaml with one job ("bench") whose phase uses the no-op module source and sink. */
export function writeNoopConfig(dir, count, workers = 4) {
  const file = path.join(dir, "syncwarden.yaml");
  const yaml = [
    "version: 1",
    "state_dir: state",
    "sync:",
    `  max_workers: ${workers}`,
    "jobs:",
    "  bench:",
    "    phases:",
    "      - name: noop",
    "        source:",
    "          type: module",
    `          module: ${JSON.stringify(path.join(BENCH_DIR, "noop-source.mjs"))}`,
    `          count: ${count}`,
    "        sink:",
    "          type: module",
    `          module: ${JSON.stringify(path.join(BENCH_DIR, "noop-sink.mjs"))}`,
    "",
  ].join("\n");
  writeFileSync(file, yaml);
  return file;
}

// ---- child processes --------------------------------------------------------------------------

/**
 * Runs `node args...` and resolves with its wall time (ms, spawn to exit), exit code, stdout and stderr.
 * Child stderr is forwarded line by line (prefixed) when `echo` is set.
 */
export function runNode(args, { env = cleanEnv(), cwd = ROOT, echo = true, nodeArgs = [] } = {}) {
  return runProcess(process.execPath, [...nodeArgs, ...args], { env, cwd, echo });
}

export function runProcess(cmd, args, { env = cleanEnv(), cwd = ROOT, echo = false, input } = {}) {
  return new Promise((resolve, reject) => {
    const started = now();
    const child = spawn(cmd, args, { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
    const out = [];
    const err = [];
    let partial = "";
    child.stdout.on("data", (b) => out.push(b));
    child.stderr.on("data", (b) => {
      err.push(b);
      if (!echo) return;
      partial += b.toString();
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const l of lines) process.stderr.write(`  | ${l}\n`);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      const wallMs = now() - started;
      if (echo && partial) process.stderr.write(`  | ${partial}\n`);
      resolve({
        code,
        signal,
        wallMs,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** The last line of a child's stdout, parsed as JSON (child scripts print one JSON result line). */
export function lastJsonLine(stdout, what) {
  const line = stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${what}: expected a JSON line on stdout, got: ${stdout.slice(-500)}`);
  }
}

/** Prints one JSON line on stdout: how a child script hands its figures to run.mjs. */
export function emitResult(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}
