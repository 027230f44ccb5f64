import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, gitConfig, runCli, Workspace } from "./helpers/workspace.js";

const FILES = 300;
const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");

interface HistoryRow {
  runId: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  result: {
    status: string;
    degradation: string;
    warnings: string[];
    phases: { name: string; total: number; completed: number; pending: number }[];
  } | null;
}

interface Check {
  name: string;
  status: string;
  message: string;
}

/** Items COMPLETED so far (0 before the ledger has its tables). */
function completed(ws: Workspace): number {
  if (!existsSync(ws.dbFile)) return 0;
  const db = ws.db();
  try {
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'items'").get()) return 0;
    return db.prepare<[], number>("SELECT COUNT(*) FROM items WHERE status = 'COMPLETED'").pluck().get()!;
  } finally {
    db.close();
  }
}

/** Starts `run`, waits until `atLeast` items are COMPLETED (the progress it makes), and kills it with SIGKILL. */
async function runAndKill(ws: Workspace, atLeast: number): Promise<void> {
  const child = spawn(process.execPath, [CLI, "run"], { cwd: ws.dir, stdio: "ignore" });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on("exit", (_c, s) => resolve(s)));
  const until = Date.now() + 60_000;
  while (completed(ws) < atLeast && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  child.kill("SIGKILL");
  expect(await exited).toBe("SIGKILL");
  expect(completed(ws)).toBeGreaterThanOrEqual(atLeast);
}

async function history(ws: Workspace): Promise<HistoryRow[]> {
  const h = await runCli(["history", "--json"], { cwd: ws.dir });
  expect(h.code, h.stderr).toBe(0);
  return JSON.parse(h.stdout) as HistoryRow[];
}

async function runsCheck(ws: Workspace, args: string[] = []): Promise<{ check: Check; repairs: Check[] }> {
  const d = await runCli(["doctor", "--json", ...args], { cwd: ws.dir });
  const report = JSON.parse(d.stdout) as { checks: Check[]; repairs: Check[] };
  return { check: report.checks.find((c) => c.name === "runs")!, repairs: report.repairs };
}

describe("runs killed with SIGKILL", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("14.2 a killed run is closed as interrupted with a finish time and its counts, by doctor --repair and by the next run", async () => {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) files[`f/file-${i}.txt`] = `file ${i}\n`;
    ws.commit(files, "files");
    ws.write(
      "syncwarden.yaml",
      gitConfig({
        sync: { max_workers: 2 },
        sink: `{ type: module, module: ${JSON.stringify(SINK)}, delay_ms: 25, log: calls.log, table: code }`,
      }),
    );

    // first kill: doctor sees a run left running by a stopped process, and --repair closes it
    await runAndKill(ws, 5);
    const [left] = await history(ws);
    expect(left).toMatchObject({ status: "running", finishedAt: null });
    const seen = await runsCheck(ws);
    expect(seen.check.status).toBe("warning");
    expect(seen.check.message).toContain(left!.runId.slice(0, 8));
    const repaired = await runsCheck(ws, ["--repair"]);
    expect(repaired.repairs.map((r) => r.name)).toContain("close-interrupted-runs");
    expect(repaired.check.status).toBe("ok");
    const [closedByDoctor] = await history(ws);
    expect(closedByDoctor).toMatchObject({ runId: left!.runId, status: "interrupted" });
    expect(Date.parse(closedByDoctor!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(left!.startedAt));
    const first = closedByDoctor!.result!;
    expect(first).toMatchObject({ status: "interrupted", degradation: "partial" });
    expect(first.warnings.join()).toContain("doctor --repair");
    expect(first.phases).toHaveLength(1);
    expect(first.phases[0]).toMatchObject({ name: "files", total: FILES });
    expect(first.phases[0]!.completed).toBeGreaterThan(0);
    expect(first.phases[0]!.pending).toBeGreaterThan(0);

    // second kill: the next run (holding the job lock) closes it before it resumes the work
    await runAndKill(ws, first.phases[0]!.completed + 5);
    const [second] = await history(ws);
    expect(second).toMatchObject({ status: "running", finishedAt: null });
    const done = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(done.code, done.stderr).toBe(0);
    const rows = await history(ws);
    expect(rows.map((r) => r.status)).toEqual(["completed", "interrupted", "interrupted"]);
    const closedByRun = rows[1]!;
    expect(closedByRun.runId).toBe(second!.runId);
    expect(closedByRun.finishedAt).not.toBeNull();
    expect(Date.parse(closedByRun.finishedAt!)).toBeLessThanOrEqual(Date.parse(rows[0]!.startedAt) + 1000);
    const counts = closedByRun.result!.phases[0]!;
    // its counts are what it left: more done than the first one left, and not yet all
    expect(counts.total).toBe(FILES);
    expect(counts.completed).toBeGreaterThan(first.phases[0]!.completed);
    expect(counts.completed).toBeLessThan(FILES);
    expect(closedByRun.result!.warnings.join()).toContain("the next run of code");
    // nothing is left running, and doctor agrees
    expect((await runsCheck(ws)).check.status).toBe("ok");
    const events = await runCli(["events", "code", "--json", "--limit", "500"], { cwd: ws.dir });
    expect(events.stdout).toContain(`run ${second!.runId} of code`);
  });
});
