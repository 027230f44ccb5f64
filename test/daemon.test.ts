import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { Daemon, MAX_SLEEP_MS, type Clock } from "../src/daemon/daemon.js";
import type { DaemonLogger } from "../src/daemon/log.js";
import {
  explainNextRun,
  MIN_GAP_MS,
  nextRunAt,
  parseDuration,
  parseSchedule,
} from "../src/config/schedule.js";
import { ConfigError, isConfigError } from "../src/errors.js";
import { acquireJobLock } from "../src/service/job-lock.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { openServices } from "../src/service/open-services.js";
import { CLI, gitConfig, runCli, Workspace, type CliResult } from "./helpers/workspace.js";

const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");
const MIN = 60_000;

/** gitConfig with a schedule on job `code`. */
function scheduledConfig(schedule: string, opts: Parameters<typeof gitConfig>[0] = {}): string {
  return gitConfig(opts).replace("  code:\n", `  code:\n    schedule: ${schedule}\n`);
}

function every(text: string) {
  const s = parseSchedule("code", { every: text });
  if (!s) throw new Error("no schedule");
  return s;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

describe("schedule rules (pure, fake clock)", () => {
  it("parses intervals and rejects bad ones naming the key", () => {
    expect([parseDuration("30s"), parseDuration("10m"), parseDuration("2h"), parseDuration("1d")]).toEqual([
      30_000,
      10 * MIN,
      2 * 60 * MIN,
      24 * 60 * MIN,
    ]);
    expect(parseDuration("1h30m")).toBe(90 * MIN);
    for (const bad of ["10", "10x", "0m", "", "m", "-5m", "1.5h"]) expect(parseDuration(bad)).toBeNull();
    const e = catchError(() => parseSchedule("code", { every: "10x" }));
    expect(isConfigError(e)).toBe(true);
    expect((e as ConfigError).message).toContain("jobs.code.schedule.every");
    const c = catchError(() => parseSchedule("code", { cron: "61 * * * *" }));
    expect(isConfigError(c)).toBe(true);
    expect((c as ConfigError).message).toContain("jobs.code.schedule.cron");
    expect(String(catchError(() => parseSchedule("code", { every: "1m", cron: "* * * * *" })))).toContain(
      "jobs.code.schedule",
    );
    expect(parseSchedule("code", undefined)).toBeNull();
  });

  it("every: not due before last success + interval, due after; never-succeeded is due now", () => {
    const s = every("10m");
    const last = Date.parse("2031-01-01T12:00:00Z");
    expect(nextRunAt(s, last, last - 5_000, last + 9 * MIN)).toBe(last + 10 * MIN);
    expect(explainNextRun(s, last, last - 5_000, last + 10 * MIN - 1).due).toBe(false);
    expect(explainNextRun(s, last, last - 5_000, last + 10 * MIN).due).toBe(true);
    const late = explainNextRun(s, last, last - 5_000, last + 25 * MIN);
    expect(late).toMatchObject({ due: true, at: last + 25 * MIN });
    expect(explainNextRun(s, null, null, last)).toMatchObject({ due: true, at: last });
  });

  it("never starts within 60 s of the last run's start, whatever the trigger", () => {
    const s = every("30s");
    const now = Date.parse("2031-01-01T12:00:00Z");
    // never succeeded (a failing job): still only once a minute
    expect(explainNextRun(s, null, now - 30_000, now)).toMatchObject({ due: false, at: now + 30_000 });
    expect(explainNextRun(s, null, now - MIN_GAP_MS, now).due).toBe(true);
    // overdue by its interval, but a run started 10 s ago
    expect(nextRunAt(s, now - 5 * MIN, now - 10_000, now)).toBe(now + 50_000);
    expect(nextRunAt(every("10m"), now - 11 * MIN, now - 2 * MIN, now)).toBe(now);
  });

  it("cron: the next cron time after the last success, or now when it was missed", () => {
    const s = parseSchedule("code", { cron: "0 * * * *" })!;
    const at = (h: number, m: number): number => new Date(2031, 0, 1, h, m).getTime();
    expect(explainNextRun(s, at(10, 5), at(10, 4), at(10, 30))).toMatchObject({ due: false, at: at(11, 0) });
    expect(explainNextRun(s, at(10, 5), at(10, 4), at(11, 0)).due).toBe(true);
    expect(explainNextRun(s, at(10, 5), at(10, 4), at(13, 20))).toMatchObject({ due: true, at: at(13, 20) });
    expect(explainNextRun(s, null, null, at(9, 0)).due).toBe(true);
  });
});

describe("Daemon on a fake clock over a real ledger and git repo", () => {
  let ws: Workspace;
  afterEach(() => {
    vi.useRealTimers();
    ws.cleanup();
  });

  it("runs due jobs, honours manual runs and survives a restart", async () => {
    ws = new Workspace();
    const head1 = ws.commit({ "a.md": "alpha", "b.md": "beta", "c.md": "gamma" });
    ws.write("syncwarden.yaml", scheduledConfig("{ every: 10m }"));
    // the service stamps runs and last success with Date.now(): fake only Date, so both sides share one clock
    const T0 = Date.parse("2031-03-01T12:00:00Z");
    vi.useFakeTimers({ toFake: ["Date"], now: T0 });
    const at = (ms: number): void => {
      vi.setSystemTime(T0 + ms);
    };
    const controller = new AbortController();
    const sleeps: number[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      sleep: (ms) => {
        sleeps.push(ms);
        vi.setSystemTime(Date.now() + ms);
        if (sleeps.length >= 3) controller.abort();
        return Promise.resolve();
      },
    };
    const lines: string[] = [];
    const logger: DaemonLogger = {
      info: (_f, m) => lines.push(`INFO ${m}`),
      warn: (_f, m) => lines.push(`WARN ${m}`),
      error: (_f, m) => lines.push(`ERROR ${m}`),
    };
    let services = openServices(loadConfig(ws.configFile));
    let daemon = new Daemon(services, { clock, logger });
    const runs = async (): Promise<string[]> =>
      (await services.sync.history("code", 100)).map((r) => r.trigger).reverse();

    const first = await daemon.runOnce();
    expect(first).toMatchObject([{ job: "code", action: "ran", result: { status: "completed" } }]);
    expect([...ws.documents("code").keys()].sort()).toEqual(["a.md", "b.md", "c.md"]);
    expect(ws.checkpoint("code", "files")).toBe(head1);
    expect((await daemon.nextRun("code")).at).toBe(T0 + 10 * MIN);

    at(5 * MIN);
    expect(await daemon.runOnce()).toMatchObject([{ action: "skipped", reason: "not-due" }]);
    expect(await runs()).toEqual(["daemon"]);

    // a manual run at t0+8m resets the timer: at t0+12m (past the original t0+10m) the daemon waits
    const head2 = ws.commit({ "d.md": "delta" });
    at(8 * MIN);
    expect((await services.sync.execute({ job: "code", trigger: "cli" })).status).toBe("completed");
    at(12 * MIN);
    const skipped = await daemon.runOnce();
    expect(skipped).toMatchObject([{ action: "skipped", reason: "not-due", next: { at: T0 + 18 * MIN } }]);
    expect(await runs()).toEqual(["daemon", "cli"]);

    // a restart reads the same timer back from the ledger
    await services.close();
    services = openServices(loadConfig(ws.configFile));
    daemon = new Daemon(services, { clock, logger });
    expect(await daemon.nextRun("code")).toMatchObject({ due: false, at: T0 + 18 * MIN });
    expect(await daemon.runOnce()).toMatchObject([{ action: "skipped", next: { at: T0 + 18 * MIN } }]);

    // due again, but another runner holds the job: skipped (not an error), retried after the minimum gap
    at(18 * MIN + 1000);
    const elsewhere = openSqliteLedger(ws.dbFile);
    const other = await acquireJobLock(elsewhere.locks, "code", "elsewhere:1:abcd", false, () => undefined);
    expect(await daemon.runOnce()).toMatchObject([
      { action: "skipped", reason: "locked", next: { at: T0 + 19 * MIN + 1000 } },
    ]);
    await other.release();
    await elsewhere.close();
    at(19 * MIN + 1000);
    expect(await daemon.runOnce()).toMatchObject([{ action: "ran", result: { status: "completed" } }]);
    expect(await runs()).toEqual(["daemon", "cli", "daemon"]);
    expect(ws.checkpoint("code", "files")).toBe(head2);

    // the loop sleeps until the next run (in naps of at most MAX_SLEEP_MS), runs it, and stops on abort
    await daemon.start(controller.signal);
    expect(sleeps.slice(0, 2)).toEqual([MAX_SLEEP_MS, 10 * MIN - MAX_SLEEP_MS]);
    expect(await runs()).toEqual(["daemon", "cli", "daemon", "daemon"]);
    expect(lines.some((l) => /^INFO code: not due; next run at 2031-03-01T12:18:00Z/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith("WARN code: skipped, another runner holds it"))).toBe(true);
    expect(lines.some((l) => /^INFO code: completed in [\d.]+s: 3 items, 3 completed/.test(l))).toBe(true);
    await services.close();
  });
});

interface Child {
  pid: number;
  done: Promise<CliResult>;
  out: () => string;
  err: () => string;
  kill: (s: NodeJS.Signals) => void;
}

/** The daemon launcher as a child process; every wait on it is bounded. */
function daemon(ws: Workspace, args: string[]): Child {
  const child = spawn(process.execPath, [CLI, "daemon", ...args], {
    cwd: ws.dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<CliResult>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { pid: child.pid!, done, out: () => stdout, err: () => stderr, kill: (s) => child.kill(s) };
}

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function jsonLines(stderr: string): { msg: string; event?: string; status?: string; level: number }[] {
  const lines = stderr.split("\n").filter(Boolean);
  expect(lines.length).toBeGreaterThan(0);
  return lines.map((l) => JSON.parse(l) as { msg: string; level: number });
}

describe("syncwarden daemon (child processes)", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("SIGTERM mid-run stops cleanly (exit 0), leaves nothing PROCESSING, and the next run finishes", async () => {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`f${i}.md`] = `file ${i}`;
    const head = ws.commit(files);
    const sink = `{ type: module, module: ${JSON.stringify(SINK)}, delay_ms: 20, log: calls.log }`;
    ws.write("syncwarden.yaml", scheduledConfig("{ every: 10m }", { sink, sync: { max_workers: 2 } }));

    const d = daemon(ws, ["--grace", "10"]);
    await until(() => existsSync(path.join(ws.dir, "calls.log")), "the sink to be called");
    d.kill("SIGTERM");
    const res = await d.done;
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toBe("");
    expect(res.stderr).toMatch(/SIGTERM: shutting down/);
    expect(res.stderr).toMatch(/code: cancelled in [\d.]+s/);
    expect(res.stderr).toMatch(/daemon stopped \(exit 0\)/);
    // the default format: one readable line per event
    for (const line of res.stderr.split("\n").filter(Boolean))
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) \S/);

    const db = ws.db();
    const processing = db
      .prepare<[], { n: number }>("SELECT count(*) AS n FROM items WHERE status = 'PROCESSING'")
      .get()!.n;
    const lock = db.prepare("SELECT * FROM job_locks").all();
    db.close();
    expect(processing).toBe(0);
    expect(lock).toEqual([]);
    expect(ws.documents("code").size).toBeLessThan(300);

    const after = await runCli(["run"], { cwd: ws.dir });
    expect(after.code, after.stderr).toBe(0);
    expect(ws.documents("code").size).toBe(300);
    expect(ws.checkpoint("code", "files")).toBe(head);
  });

  it("a second daemon on the same state exits 75 naming the first", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "alpha" });
    ws.write("syncwarden.yaml", scheduledConfig("{ every: 10m }"));
    const first = daemon(ws, ["--log-format", "json"]);
    await until(() => first.err().includes("idle until"), "the first daemon to go idle");
    const second = await daemon(ws, []).done;
    expect(second.code, second.stderr).toBe(75);
    expect(second.stderr).toContain(
      `another daemon runs on ${path.join(ws.dir, ".syncwarden")}: pid ${first.pid}`,
    );
    expect(second.stdout).toBe("");
    // idle: SIGTERM wakes it at once
    first.kill("SIGTERM");
    const res = await first.done;
    expect(res.code, res.stderr).toBe(0);
    expect(jsonLines(res.stderr).map((l) => l.event)).toEqual(
      expect.arrayContaining([
        "daemon:start",
        "job:start",
        "job:end",
        "idle",
        "daemon:stopping",
        "daemon:stop",
      ]),
    );
  });

  it("--log-format json: stderr is pino JSON lines with msg, stdout stays empty", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "alpha", "b.md": "beta" });
    ws.write("syncwarden.yaml", scheduledConfig("{ every: 1h }"));
    const once = await daemon(ws, ["--once", "--log-format", "json"]).done;
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout).toBe("");
    const lines = jsonLines(once.stderr);
    for (const l of lines) expect(typeof l.msg).toBe("string");
    expect(lines.find((l) => l.event === "job:end")).toMatchObject({ status: "completed", level: 30 });
    expect(ws.documents("code").size).toBe(2);
    // a second pass right away: not due, nothing runs
    const again = await daemon(ws, ["--once", "--log-format", "json"]).done;
    expect(again.code, again.stderr).toBe(0);
    expect(jsonLines(again.stderr).find((l) => l.event === "job:skip")?.msg).toMatch(
      /code: not due; next run at/,
    );

    ws.write("syncwarden.yaml", scheduledConfig("{ every: 10x }"));
    const bad = await daemon(ws, ["--once"]).done;
    expect(bad.code).toBe(78);
    expect(bad.stderr).toContain("jobs.code.schedule.every");
  });
});
