import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { Daemon, type Clock, type PassOutcome } from "../src/daemon/daemon.js";
import type { DaemonLogger } from "../src/daemon/log.js";
import { parseReplicaSchedules } from "../src/config/schedule.js";
import { acquireJobLock } from "../src/service/job-lock.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { openServices, type Services } from "../src/service/open-services.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

const MIN = 60_000;
const T0 = Date.parse("2031-03-01T12:00:00Z");

let ws: ReplicaWorkspace;
afterEach(() => {
  vi.useRealTimers();
  ws.cleanup();
});

/** Gives job `code` a schedule in the workspace's config. */
function scheduleJob(schedule: string): void {
  const text = readFileSync(ws.configFile, "utf8").replace(
    "  code:\n",
    `  code:\n    schedule: ${schedule}\n`,
  );
  ws.write("syncwarden.yaml", text);
}

/** A daemon over the workspace on a fake clock (only Date is faked: the ledger and the daemon share it). */
function fakeDaemon(): { daemon: Daemon; service: Services; at: (ms: number) => void; lines: string[] } {
  vi.useFakeTimers({ toFake: ["Date"], now: T0 });
  const clock: Clock = { now: () => Date.now(), sleep: () => Promise.resolve() };
  const lines: string[] = [];
  const logger: DaemonLogger = {
    info: (_f, m) => lines.push(`INFO ${m}`),
    warn: (_f, m) => lines.push(`WARN ${m}`),
    error: (_f, m) => lines.push(`ERROR ${m}`),
  };
  const service = openServices(loadConfig(ws.configFile));
  const daemon = new Daemon(service, { clock, logger, healthEveryMs: 0 });
  return { daemon, service, at: (ms) => vi.setSystemTime(T0 + ms), lines };
}

/** The outcome of one replica target in a pass. */
function of(outcomes: PassOutcome[], target: string): PassOutcome | undefined {
  return outcomes.find((o) => "target" in o && o.target === target);
}

describe("replica target schedules: configuration", () => {
  it("a bad schedule on a target fails naming the file and the key; the daemon refuses to start", async () => {
    ws = new ReplicaWorkspace([
      { name: "ok", path: "./remote", extra: "schedule: { every: 10m }" },
      { name: "bad", path: "./remote", extra: "schedule: { every: 10x }" },
    ]);
    // checked when the configuration loads (14.8), with the file, line and key
    expect(() => loadConfig(ws.configFile)).toThrow(
      new RegExp(
        `${ws.configFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+: replicas\\.notes\\.targets\\[1\\]\\.schedule\\.every: invalid interval "10x"`,
      ),
    );
    expect(() =>
      parseReplicaSchedules({ n: { targets: [{ name: "t", schedule: { cron: "61 * * * *" } }] } }),
    ).toThrow("replicas.n.targets[0].schedule.cron");
    expect(() =>
      parseReplicaSchedules({
        n: { targets: [{ name: "t", schedule: { every: "1m", cron: "* * * * *" } }] },
      }),
    ).toThrow("replicas.n.targets[0].schedule: give either every or cron");

    const daemon = await ws.cli(["daemon", "--once"]);
    expect(daemon.code).toBe(78);
    expect(daemon.stderr).toContain("replicas.notes.targets[1].schedule.every");
    expect(ws.tree(ws.remote)).toEqual({});
  });

  it("an unknown key in a target's schedule fails at config load with file:line", () => {
    ws = new ReplicaWorkspace([{ extra: "schedule: { evry: 10m }" }]);
    expect(() => loadConfig(ws.configFile)).toThrow(
      /syncwarden\.yaml:\d+:\d+: replicas\.notes\.targets\[0\]\.schedule/,
    );
  });
});

describe("replica target schedules: the daemon on a fake clock", () => {
  it("replicates a due target, waits until it is due again, then replicates again", async () => {
    ws = new ReplicaWorkspace([{ extra: "schedule: { every: 10m }" }]);
    ws.put(ws.local, "a.md", "alpha");
    ws.put(ws.local, "sub/b.md", "beta");
    const { daemon, service, at, lines } = fakeDaemon();
    let restarted: ReturnType<typeof fakeDaemon> | undefined;
    try {
      const first = await daemon.runOnce();
      expect(of(first, "drive")).toMatchObject({ action: "ran", report: { status: "ok", copied: 2 } });
      expect(ws.tree(ws.remote)).toEqual({ "a.md": "alpha", "sub/b.md": "beta" });

      ws.put(ws.local, "c.md", "gamma");
      at(9 * MIN);
      const early = await daemon.runOnce();
      expect(of(early, "drive")).toMatchObject({
        action: "skipped",
        reason: "not-due",
        next: { at: T0 + 10 * MIN },
      });
      expect(ws.tree(ws.remote)).not.toHaveProperty("c.md");

      // a restart reads the timer back from the ledger
      await service.close();
      const again = (restarted = fakeDaemon());
      again.at(10 * MIN);
      const due = await again.daemon.runOnce();
      expect(of(due, "drive")).toMatchObject({ action: "ran", report: { status: "ok", copied: 1 } });
      expect(ws.tree(ws.remote)).toEqual({ "a.md": "alpha", "sub/b.md": "beta", "c.md": "gamma" });
      expect(
        lines.some((l) => /^INFO replica:notes:drive: not due; next run at 2031-03-01T12:10:00Z/.test(l)),
      ).toBe(true);
      expect(again.lines.some((l) => /^INFO replica:notes:drive: ok: 1 copied/.test(l))).toBe(true);
    } finally {
      await (restarted ?? { service }).service.close();
    }
  });

  it("an unreachable target stops neither the scheduled job nor another target, and is retried a minute later", async () => {
    ws = new ReplicaWorkspace([
      { name: "gone", path: "./unmounted", extra: "schedule: { every: 10m }" },
      { name: "drive", extra: "schedule: { every: 10m }" },
    ]);
    scheduleJob("{ every: 10m }");
    ws.commit({ "x.md": "indexed" });
    ws.put(ws.local, "a.md", "alpha");
    const { daemon, service, at, lines } = fakeDaemon();
    try {
      const pass = await daemon.runOnce();
      expect(pass.find((o) => "job" in o)).toMatchObject({
        job: "code",
        action: "ran",
        result: { status: "completed" },
      });
      expect(of(pass, "gone")).toMatchObject({ action: "ran", report: { status: "error" } });
      expect(of(pass, "drive")).toMatchObject({ action: "ran", report: { status: "ok" } });
      expect(ws.documents("code").get("x.md")).toBe("indexed");
      expect(ws.tree(ws.remote)).toEqual({ "a.md": "alpha" });
      expect(lines.some((l) => l.startsWith("ERROR replica:notes:gone: error: target folder"))).toBe(true);

      // the failing target never succeeded, so it is due, but not within a minute of its last start
      at(30_000);
      expect(of(await daemon.runOnce(), "gone")).toMatchObject({ action: "skipped", reason: "not-due" });
      at(MIN);
      const retry = await daemon.runOnce();
      expect(of(retry, "gone")).toMatchObject({ action: "ran", report: { status: "error" } });
      expect(of(retry, "drive")).toMatchObject({ action: "skipped", reason: "not-due" });

      // a target held by another runner is skipped; the job and the other target still run
      ws.put(ws.local, "b.md", "beta");
      ws.commit({ "y.md": "later" });
      at(10 * MIN);
      const elsewhere = openSqliteLedger(ws.dbFile);
      const other = await acquireJobLock(
        elsewhere.locks,
        "replica:notes:drive",
        "elsewhere:1:abcd",
        false,
        () => undefined,
      );
      const held = await daemon.runOnce();
      await other.release();
      await elsewhere.close();
      expect(of(held, "drive")).toMatchObject({ action: "skipped", reason: "locked" });
      expect(held.find((o) => "job" in o)).toMatchObject({ action: "ran", result: { status: "completed" } });
      expect(of(held, "gone")).toMatchObject({ action: "ran" });
      expect(ws.documents("code").get("y.md")).toBe("later");
      expect(ws.tree(ws.remote)).not.toHaveProperty("b.md");
      at(11 * MIN);
      expect(of(await daemon.runOnce(), "drive")).toMatchObject({ action: "ran", report: { status: "ok" } });
      expect(ws.tree(ws.remote)).toEqual({ "a.md": "alpha", "b.md": "beta" });
    } finally {
      await service.close();
    }
  });

  it("daemon --once runs a config whose only schedule is on a replica target", async () => {
    ws = new ReplicaWorkspace([{ extra: 'schedule: { cron: "0 * * * *" }' }]);
    ws.put(ws.local, "a.md", "alpha");
    const once = await ws.cli(["daemon", "--once", "--log-format", "json"]);
    expect(once.code, once.stderr).toBe(0);
    const events = once.stderr
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { event?: string; status?: string; target?: string });
    expect(events.find((e) => e.event === "replica:run")).toMatchObject({ target: "drive", status: "ok" });
    expect(ws.tree(ws.remote)).toEqual({ "a.md": "alpha" });
  });
});

/** The workspace's target replicated once, its last success moved an hour back. */
async function replicatedAnHourAgo(): Promise<void> {
  ws.put(ws.local, "a.md", "alpha");
  expect((await ws.replicate()).code).toBe(0);
  const db = new Database(ws.dbFile);
  db.prepare("UPDATE metadata SET value = ? WHERE key = 'last_success:replica:notes:drive'").run(
    new Date(Date.now() - 3_600_000).toISOString(),
  );
  db.close();
}

describe("replica target schedules: doctor", () => {
  it("reports an overdue target, and --repair replicates it", async () => {
    ws = new ReplicaWorkspace([{ extra: "schedule: { every: 5m }" }]);
    await replicatedAnHourAgo();
    ws.put(ws.local, "late.md", "written after the last success");

    const schedules = async (args: string[]) => {
      const r = await ws.cli(["doctor", "--json", ...args]);
      expect(r.stderr).toBe("");
      const report = JSON.parse(r.stdout) as {
        checks: { name: string; status: string; message: string }[];
        repairs: { name: string; ok: boolean; message: string; details: Record<string, unknown> }[];
      };
      return { code: r.code, report, check: report.checks.find((c) => c.name === "schedules") };
    };
    const before = await schedules([]);
    expect(before.code).toBe(1);
    expect(before.check).toMatchObject({ status: "warning" });
    expect(before.check?.message).toMatch(
      /1 replica targets overdue: replica:notes:drive \(every 5m; last success/,
    );
    expect(ws.tree(ws.remote)).not.toHaveProperty("late.md");

    const fixed = await schedules(["--repair"]);
    expect(fixed.report.repairs.find((r) => r.name === "start-replication")).toMatchObject({
      ok: true,
      details: { replica: "notes", target: "drive", status: "ok", copied: 1 },
    });
    expect(fixed.check).toMatchObject({ status: "ok" });
    expect(ws.tree(ws.remote)).toEqual({ "a.md": "alpha", "late.md": "written after the last success" });
    const check = ws.db();
    try {
      const messages = check
        .prepare("SELECT message FROM events WHERE type = 'doctor:repair'")
        .pluck()
        .all() as string[];
      expect(messages.join("\n")).toMatch(
        /doctor: start-replication: replicated overdue target replica:notes:drive/,
      );
    } finally {
      check.close();
    }
  });

  it("a target without a schedule of its own is judged by orchestrator.sync_interval, as the daemon schedules it", async () => {
    ws = new ReplicaWorkspace([{}]);
    await replicatedAnHourAgo();
    const schedules = async () => {
      const r = await ws.cli(["doctor", "--json"]);
      expect(r.stderr).toBe("");
      const report = JSON.parse(r.stdout) as { checks: { name: string; status: string; message: string }[] };
      return report.checks.find((c) => c.name === "schedules");
    };
    // unscheduled, the target is never overdue
    expect(await schedules()).toMatchObject({ status: "ok", message: "no scheduled jobs" });
    // every 300 s by the orchestrator's key: an hour since its last success is overdue
    ws.write(
      "syncwarden.yaml",
      `${readFileSync(ws.configFile, "utf8")}orchestrator: { sync_interval: 300 }\n`,
    );
    const late = await schedules();
    expect(late?.status).toBe("warning");
    expect(late?.message).toMatch(
      /1 replica targets overdue: replica:notes:drive \(every 300s; last success/,
    );
  });
});
