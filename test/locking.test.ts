import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, gitConfig, runCli, Workspace, type CliResult } from "./helpers/workspace.js";

const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");

function start(
  ws: Workspace,
  args: string[],
): { pid: number; done: Promise<CliResult>; kill: (s: NodeJS.Signals) => void } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ws.dir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { pid: child.pid!, done, kill: (s) => child.kill(s) };
}

async function until(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("one runner per job across processes", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("five processes at once: one syncs, four wait then exit 75 naming the holder; a SIGKILLed holder's lock is reclaimed", async () => {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) files[`f${i}.md`] = `file ${i}`;
    const head = ws.commit(files);
    ws.write(
      "syncwarden.yaml",
      gitConfig({ sink: `{ type: module, module: ${JSON.stringify(SINK)}, delay_ms: 20, log: calls.log }` }),
    );

    const runs = Array.from({ length: 5 }, () => start(ws, ["run", "--wait", "1"]));
    const results = await Promise.all(runs.map((r) => r.done));
    const codes = results.map((r) => r.code).sort();
    const odd = results.filter((r) => r.code !== 0 && r.code !== 75).map((r) => r.stderr);
    expect(codes, odd.join("\n")).toEqual([0, 75, 75, 75, 75]);
    const winner = runs[results.findIndex((r) => r.code === 0)]!;
    for (const r of results.filter((x) => x.code === 75)) {
      expect(r.stderr).toMatch(
        new RegExp(`code is being synced by pid ${winner.pid} on ${hostname()} since \\d\\d:\\d\\d:\\d\\d`),
      );
    }
    // only the winner ever reached the sink
    const pids = new Set(
      readFileSync(path.join(ws.dir, "calls.log"), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => Number(l.split("\t")[0])),
    );
    expect([...pids]).toEqual([winner.pid]);
    expect(ws.checkpoint("code", "files")).toBe(head);

    // --no-wait fails at once while another run holds the job
    const more: Record<string, string> = {};
    for (let i = 0; i < 400; i++) more[`g${i}.md`] = `second ${i}`;
    const head2 = ws.commit(more);
    const holder = start(ws, ["run"]);
    await until(() => readFileSync(path.join(ws.dir, "calls.log"), "utf8").includes(`${holder.pid}\t`));
    const busy = await runCli(["run", "--no-wait"], { cwd: ws.dir });
    expect(busy.code).toBe(75);
    expect(busy.stderr).toContain(`pid ${holder.pid}`);

    // kill -9 the holder: the next run reclaims its lock at once and resumes without redoing completed items
    await new Promise((r) => setTimeout(r, 400));
    holder.kill("SIGKILL");
    expect((await holder.done).signal).toBe("SIGKILL");
    const db = ws.db();
    const completed = new Set(
      db
        .prepare<[], { key: string }>("SELECT key FROM items WHERE status = 'COMPLETED' AND key LIKE 'g%'")
        .all()
        .map((r) => r.key),
    );
    db.close();
    expect(completed.size).toBeGreaterThan(0);
    const resumed = start(ws, ["run", "--no-wait"]);
    const res = await resumed.done;
    expect(res.code, res.stderr).toBe(0);
    expect(ws.checkpoint("code", "files")).toBe(head2);
    const redone = readFileSync(path.join(ws.dir, "calls.log"), "utf8")
      .split("\n")
      .filter((l) => l.startsWith(`${resumed.pid}\t`))
      .map((l) => l.split("\t")[2]!)
      .filter((k) => completed.has(k));
    expect(redone).toEqual([]);
    expect(ws.documents("code").size).toBe(800);
    const events = await runCli(["events", "code", "--json"], { cwd: ws.dir });
    const reclaimed = (
      JSON.parse(events.stdout) as { type: string; message: string; level: string }[]
    ).filter((e) => e.type === "lock:reclaimed");
    expect(reclaimed).toHaveLength(1);
    expect(reclaimed[0]!.message).toContain(`pid ${holder.pid}`);
    expect(existsSync(path.join(ws.dir, ".syncwarden", "state.db"))).toBe(true);
  });
});
