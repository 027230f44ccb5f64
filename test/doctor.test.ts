import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { CheckResult, RepairResult } from "../src/health/types.js";
import { CLI, gitConfig, runCli, Workspace, type CliResult } from "./helpers/workspace.js";

const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");

type Check = CheckResult;
type Repair = RepairResult;
interface Report {
  checks: Check[];
  repairs: Repair[];
}

let ws: Workspace;
afterEach(() => ws.cleanup());

const cli = (args: string[], env?: Record<string, string>): Promise<CliResult> =>
  runCli(args, { cwd: ws.dir, ...(env ? { env } : {}) });

async function doctor(
  args: string[] = [],
  env?: Record<string, string>,
): Promise<{ code: number | null; report: Report; check: (name: string) => Check }> {
  const r = await cli(["doctor", "--json", ...args], env);
  expect(r.stderr).toBe("");
  const report = JSON.parse(r.stdout) as Report;
  return {
    code: r.code,
    report,
    check: (name) => {
      const c = report.checks.find((x) => x.name === name);
      if (!c) throw new Error(`no check ${name} in ${r.stdout}`);
      return c;
    },
  };
}

/** Opens the state database read-write, for making a condition real (the CLI is not running). */
function withDb<T>(fn: (db: Database.Database) => T): T {
  const db = new Database(ws.dbFile);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const doctorEvents = (): { message: string; data: string }[] =>
  withDb((db) =>
    db
      .prepare<[], { message: string; data: string }>(
        "SELECT message, data FROM events WHERE type = 'doctor:repair'",
      )
      .all(),
  );

function files(n: number, prefix = "src/file"): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < n; i++) out[`${prefix}-${i}.txt`] = `file ${i} says hello ${i}\n`;
  return out;
}

/** The folder name of a backup taken `msAgo` before now. */
const backupDir = (msAgo: number): string =>
  path.join(ws.dir, ".syncwarden", "backups", new Date(Date.now() - msAgo).toISOString());

describe("syncwarden doctor", () => {
  it("reports a corrupted database as critical and --repair restores the newest verified snapshot", async () => {
    ws = new Workspace();
    ws.commit(files(40));
    ws.write("syncwarden.yaml", gitConfig());
    expect((await cli(["run"])).code).toBe(0);

    // a sound snapshot, held outside backups/ for now, and a newer damaged one in backups/
    const held = path.join(ws.dir, "held-snapshot");
    mkdirSync(held);
    const source = new Database(ws.dbFile);
    await source.backup(path.join(held, "state.db"));
    source.close();
    const bad = backupDir(600_000);
    mkdirSync(bad, { recursive: true });
    ws.write(path.relative(ws.dir, path.join(bad, "state.db")), "this is not a database at all".repeat(200));

    ws.corruptDatabase();

    const sick = await doctor();
    expect(sick.code).toBe(2);
    expect(sick.check("database-integrity").status).toBe("critical");
    const text = await cli(["doctor"]);
    expect(text.code).toBe(2);
    expect(text.stdout).toMatch(/^CRITICAL database-integrity: quick_check failed/m);
    const deep = await doctor(["--thorough"]);
    expect(deep.code).toBe(2);
    expect(deep.check("database-integrity").message).toMatch(/^integrity_check failed/);
    const broken = await cli(["status", "--json"]);
    expect(broken.code).not.toBe(0);

    // no sound snapshot: the repair refuses and leaves the damaged file in place
    const hopeless = await doctor(["--repair"]);
    expect(hopeless.code).toBe(2);
    expect(hopeless.report.repairs.find((r) => r.name === "restore-database")).toMatchObject({ ok: false });
    expect(readdirSync(path.dirname(ws.dbFile)).some((f) => f.includes(".corrupt-"))).toBe(false);

    // with a verified snapshot an hour old (older than the damaged one, which must be passed over)
    const good = backupDir(3_600_000);
    renameSync(held, good);
    const fixed = await doctor(["--repair"]);
    expect(fixed.code, JSON.stringify(fixed.report, null, 2)).toBe(0);
    const restore = fixed.report.repairs.find((r) => r.name === "restore-database")!;
    expect(restore.ok).toBe(true);
    expect(restore.details.from).toBe(path.join(good, "state.db"));
    expect((restore.details.rejected as { file: string }[]).map((r) => r.file)).toEqual([
      path.join(bad, "state.db"),
    ]);
    expect(fixed.check("database-integrity").status).toBe("ok");
    const aside = readdirSync(path.dirname(ws.dbFile)).filter((f) => f.startsWith("state.db.corrupt-"));
    expect(aside.length).toBeGreaterThanOrEqual(1);

    const status = await cli(["status", "--json"]);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { jobs: { documents: number }[] }).jobs[0]!.documents).toBe(40);
    expect(ws.documents("code").size).toBe(40);
    expect(doctorEvents().some((e) => e.message.includes("restore-database"))).toBe(true);
  });

  it("finds the stale lock and expired leases of a run killed with SIGKILL, and --repair requeues them", async () => {
    ws = new Workspace();
    ws.commit(files(400));
    ws.write(
      "syncwarden.yaml",
      gitConfig({
        sync: { lease_seconds: 1, max_workers: 4 },
        sink: `{ type: module, module: ${JSON.stringify(SINK)}, delay_ms: 15, log: calls.log, table: code }`,
      }),
    );
    const child = spawn(process.execPath, [CLI, "run"], { cwd: ws.dir, stdio: "ignore" });
    const exited = new Promise((r) => child.on("exit", r));
    // kill once items are being processed
    for (let i = 0; i < 100 && !existsSync(path.join(ws.dir, "calls.log")); i++)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGKILL");
    await exited;
    await new Promise((r) => setTimeout(r, 1200)); // the leases (1 s) expire

    // and a second stale lock: a row for a pid that no longer exists on this host
    await ws.plantDeadLock("other");
    const processing = (): number =>
      withDb(
        (db) =>
          db.prepare<[], { n: number }>("SELECT count(*) AS n FROM items WHERE status = 'PROCESSING'").get()!
            .n,
      );
    expect(processing()).toBeGreaterThan(0);

    const before = await doctor();
    expect(before.code).toBe(1);
    expect(before.check("leases").status).toBe("warning");
    expect(before.check("leases").details.expired).toBe(processing());
    expect(before.check("job-locks").status).toBe("warning");
    expect((before.check("job-locks").details.stale as { job: string }[]).map((s) => s.job).sort()).toEqual([
      "code",
      "other",
    ]);

    const after = await doctor(["--repair"]);
    expect(after.code, JSON.stringify(after.report, null, 2)).toBe(0);
    expect(after.report.repairs.map((r) => r.name)).toEqual(
      expect.arrayContaining(["reclaim-locks", "requeue-leases"]),
    );
    expect(processing()).toBe(0);
    expect(withDb((db) => db.prepare("SELECT * FROM job_locks").all())).toEqual([]);
    expect(
      doctorEvents()
        .map((e) => e.message)
        .join("\n"),
    ).toMatch(/requeued \d+ items whose lease expired/);

    // the requeued work finishes with the next run
    const run = await cli(["run", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    expect(ws.documents("code").size).toBe(400);
  });

  it("warns about dead items, enrichment debts and an open breaker", async () => {
    ws = new Workspace();
    ws.commit(files(12));
    ws.write("poison.txt", "src/file-3.txt\nsrc/file-7.txt\n");
    // an embeddings provider that refuses connections: items are stored raw with a debt, the breaker opens
    ws.write(
      "syncwarden.yaml",
      `sync: { max_retries: 0, retry_wait_seconds: 0, max_workers: 2 }
providers:
  embeddings:
    base_url: http://127.0.0.1:1/v1
    retry: { max_attempts: 1, base_delay: 0.01, max_delay: 0.01 }
    breaker: { failure_threshold: 2, success_threshold: 1, timeout: 600 }
    timeout: 2
jobs:
  code:
    phases:
      - name: files
        source: { type: git, repo: ./repo }
        enrich: [{ type: openai-embeddings, provider: embeddings, model: m, degradable: true, batch_size: 4 }]
        sink: { type: module, module: ${JSON.stringify(SINK)}, poison: poison.txt, table: code }
`,
    );
    const run = await cli(["run"]);
    expect(run.code, run.stderr).toBe(3);

    const d = await doctor();
    expect(d.code).toBe(1);
    const backlog = d.check("backlog");
    expect(backlog.status).toBe("warning");
    expect(backlog.details.dead).toBe(2);
    expect(backlog.details.debts).toBe(10);
    expect(d.check("breakers").status).toBe("warning");
    expect(d.check("breakers").message).toContain("embeddings");
    // a breaker is reported, not moved: it moves itself to half_open on its next call
    await doctor(["--repair"]);
    expect(withDb((db) => db.prepare("SELECT state FROM breakers").pluck().get())).toBe("open");
  });

  it("starts a sync for a job past its schedule", async () => {
    ws = new Workspace();
    ws.commit(files(5));
    ws.write("syncwarden.yaml", gitConfig().replace("  code:\n", "  code:\n    schedule: { every: 1s }\n"));
    expect((await cli(["run"])).code).toBe(0);
    const past = new Date(Date.now() - 3_600_000).toISOString();
    withDb((db) => db.prepare("UPDATE metadata SET value = ? WHERE key = 'last_success:code'").run(past));
    ws.commit({ "late.txt": "added after the last success\n" });

    const d = await doctor();
    expect(d.code).toBe(1);
    expect(d.check("schedules").status).toBe("warning");
    expect(d.check("schedules").message).toContain("code");

    const fixed = await doctor(["--repair"]);
    expect(fixed.code, JSON.stringify(fixed.report, null, 2)).toBe(0);
    expect(fixed.report.repairs.find((r) => r.name === "start-sync")).toMatchObject({
      ok: true,
      details: { job: "code", status: "completed" },
    });
    expect(ws.documents("code").get("late.txt")).toBe("added after the last success\n");
    const last = withDb((db) =>
      db.prepare("SELECT value FROM metadata WHERE key = 'last_success:code'").pluck().get(),
    ) as string;
    expect(Date.parse(last)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("judges free disk against the env thresholds", async () => {
    ws = new Workspace();
    ws.commit(files(2));
    ws.write("syncwarden.yaml", gitConfig());
    expect((await cli(["run"])).code).toBe(0);
    const warn = await doctor([], { SYNCWARDEN_DOCTOR_DISK_WARN_GB: "1000000" });
    expect(warn.code).toBe(1);
    expect(warn.check("disk").status).toBe("warning");
    const crit = await doctor([], {
      SYNCWARDEN_DOCTOR_DISK_WARN_GB: "2000000",
      SYNCWARDEN_DOCTOR_DISK_CRIT_GB: "1000000",
    });
    expect(crit.code).toBe(2);
    expect(crit.check("disk").status).toBe("critical");
  });

  it("prunes backups past retention and stray temp files, and vacuums a database with many free pages", async () => {
    ws = new Workspace();
    ws.commit(files(5));
    ws.write("syncwarden.yaml", gitConfig());
    expect((await cli(["run"])).code).toBe(0);

    // the old one named the way replicas name theirs (basic ISO 8601), the recent one in extended form
    const old = path.join(
      ws.dir,
      ".syncwarden",
      "backups",
      new Date(Date.now() - 40 * 86_400_000).toISOString().replace(/[-:]/g, ""),
    );
    const recent = backupDir(86_400_000);
    ws.write(path.relative(ws.dir, path.join(old, "notes.md")), "old");
    ws.write(path.relative(ws.dir, path.join(recent, "notes.md")), "recent");
    const tmp = ws.write(".syncwarden/state.db.copy.tmp", "half-written");
    withDb((db) => {
      db.exec("CREATE TABLE junk (b BLOB)");
      db.prepare(
        "INSERT INTO junk SELECT randomblob(2000) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) SELECT i FROM n)",
      ).run();
      db.exec("DROP TABLE junk");
      db.pragma("wal_checkpoint(TRUNCATE)");
    });

    const d = await doctor();
    expect(d.code).toBe(1);
    expect(d.check("backups").status).toBe("warning");
    expect(d.check("backups").details).toMatchObject({ count: 2, expired: [path.basename(old)] });
    const size = d.check("database-size");
    expect(size.status).toBe("warning");
    expect(size.details.freeRatio as number).toBeGreaterThan(0.3);
    const bytesBefore = size.details.dbBytes as number;

    const fixed = await doctor(["--repair"]);
    expect(fixed.code, JSON.stringify(fixed.report, null, 2)).toBe(0);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect(existsSync(tmp)).toBe(false);
    expect(fixed.report.repairs.find((r) => r.name === "compact")?.details.vacuumed).toBe(true);
    expect(fixed.check("database-size").details.freeRatio as number).toBeLessThan(0.05);
    expect(fixed.check("database-size").details.dbBytes as number).toBeLessThan(bytesBefore / 4);
    const logged = doctorEvents()
      .map((e) => e.message)
      .join("\n");
    expect(logged).toContain("prune-backups");
    expect(logged).toContain("prune-temp-files");
    expect(logged).toContain("VACUUM");

    // retention comes from the environment too
    const keepNone = await doctor(["--repair"], { SYNCWARDEN_BACKUP_RETENTION_DAYS: "0" });
    expect(keepNone.code).toBe(0);
    expect(existsSync(recent)).toBe(false);
  });
});
