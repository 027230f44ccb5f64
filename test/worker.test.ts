import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { CLI, gitConfig, runCli, Workspace } from "./helpers/workspace.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("syncwarden worker", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("plans again a run whose planner died while planning, finishes it, and exits 0 on SIGTERM", async () => {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`f${i}.txt`] = `file ${i}\n`;
    const head = ws.commit(files);
    ws.write("syncwarden.yaml", gitConfig());
    // what a planner killed mid-listing leaves: its run started, its plan still planning, a few items recorded
    const ledger = openSqliteLedger(ws.dbFile);
    await ledger.runs.start({ id: "dead-run", job: "code", trigger: "cli", owner: "elsewhere:1:dead" });
    const plan = await ledger.plans.createPlan(
      { job: "code", phase: "files", scope: "" },
      null,
      head,
      "snapshot",
    );
    await ledger.plans.recordItems(plan, [{ key: "f0.txt", version: "x", op: "upsert" }]);
    await ledger.close();

    const worker = spawn(process.execPath, [CLI, "worker", "--poll", "0.2"], {
      cwd: ws.dir,
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((r) => worker.on("exit", (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (ws.checkpoint("code", "files") !== head && Date.now() < deadline) await sleep(200);
    expect(ws.checkpoint("code", "files")).toBe(head);
    expect(ws.documents("code").size).toBe(30);
    worker.kill("SIGTERM");
    expect(await exited).toBe(0);
    // the dead planner's run was closed as interrupted by the run that planned again
    const history = await runCli(["history", "code", "--json"], { cwd: ws.dir });
    const runs = JSON.parse(history.stdout) as { runId: string; status: string; trigger: string }[];
    expect(runs.find((r) => r.runId === "dead-run")?.status).toBe("interrupted");
    expect(runs.some((r) => r.trigger === "worker" && r.status === "completed")).toBe(true);
  });
});
