import { readFileSync } from "node:fs";
import path from "node:path";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import type { SyncResult } from "../src/service/types.js";
import { files, inMemory, overStdio, sleep, slowConfig, textOf } from "./helpers/mcp-client.js";
import { Workspace } from "./helpers/workspace.js";

// A client's request timeout (60 s by default in the official SDK; 2 s here) must not cut a long sync:
// sync_data answers at once with the run id, and sync_status follows the run to its end.

interface RunState {
  runId: string;
  job: string;
  state: "waiting" | "running" | "ended";
  progress: { phase: string; total: number; completed: number; percent: number } | null;
  result: SyncResult | null;
}

const CLIENT_TIMEOUT = { timeout: 2000 };

let ws: Workspace;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  ws.cleanup();
});

describe("MCP: runs longer than the client's request timeout", { timeout: 120_000 }, () => {
  it("14.11 over stdio, sync_data answers at once with the run id while the run outlasts the client's 2 s timeout; sync_status {run_id} reports live progress, then the result", async () => {
    ws = new Workspace();
    ws.commit(files("f", 240));
    ws.write("syncwarden.yaml", slowConfig(100)); // 240 items × 100 ms / 4 workers: about 6 s
    const { call } = await overStdio(ws.configFile, ws.dir, cleanups);

    const t0 = Date.now();
    const started = await call("sync_data", { job: "code" }, CLIENT_TIMEOUT);
    expect(Date.now() - t0).toBeLessThan(2000);
    const { runId, status } = started.structuredContent as { runId: string; status: string };
    expect(status).toBe("started");
    expect(runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(textOf(started)).toContain(`sync_status {"run_id": "${runId}"}`);

    // poll as an agent would, every request under the client's timeout
    const seen: RunState[] = [];
    const deadline = Date.now() + 90_000;
    for (let i = 0; i < 600 && Date.now() < deadline; i++) {
      const r = await call("sync_status", { run_id: runId }, CLIENT_TIMEOUT);
      expect(r.isError, textOf(r)).toBeFalsy();
      const run = (r.structuredContent as { run: RunState }).run;
      seen.push(run);
      if (run.state === "ended") break;
      await sleep(250);
    }
    const last = seen.at(-1)!;
    expect(last.state).toBe("ended");
    expect(Date.now() - t0).toBeGreaterThan(2000); // the run did outlast the client's timeout
    const live = seen.filter((s) => s.state === "running" && s.progress !== null);
    expect(live.length).toBeGreaterThanOrEqual(1);
    expect(live[0]!.progress).toMatchObject({ phase: "files", total: 240 });
    expect(live[0]!.progress!.completed).toBeLessThan(240);
    expect(last.result).toMatchObject({ runId, job: "code", status: "completed" });
    expect(last.result!.phases[0]!.completed).toBe(240);
    expect(ws.documents("code").size).toBe(240);

    // the ledger's record agrees (history, through the same client)
    const history = (await call("history", { job: "code" }, CLIENT_TIMEOUT)).structuredContent as {
      runs: { runId: string; status: string; trigger: string }[];
    };
    expect(history.runs[0]).toMatchObject({ runId, status: "completed", trigger: "mcp" });
  });

  it("14.11 sync_data {wait: true} waits at most wait_seconds, sending progress notifications meanwhile; cancel_sync stops the run and the next one resumes it", async () => {
    ws = new Workspace();
    ws.commit(files("f", 300));
    ws.write("syncwarden.yaml", slowConfig(100)); // 300 × 100 ms / 4: about 7.5 s
    const { call } = await inMemory(ws.configFile, cleanups);

    const progress: Progress[] = [];
    const t0 = Date.now();
    const waited = await call(
      "sync_data",
      { job: "code", wait: true, wait_seconds: 5 },
      { timeout: 7000, onprogress: (p) => progress.push(p) },
    );
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(4900);
    expect(elapsed).toBeLessThan(6500);
    const { runId, status } = waited.structuredContent as { runId: string; status: string };
    expect(status).toBe("running");
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(
      progress.every((p, i) => p.total === 300 && (i === 0 || p.progress > progress[i - 1]!.progress)),
    ).toBe(true);

    const cancelled = await call("cancel_sync", { run_id: runId });
    const result = cancelled.structuredContent as unknown as SyncResult;
    expect(result).toMatchObject({ runId, status: "cancelled" });
    expect(result.phases[0]!.completed).toBeLessThan(300);
    expect((await call("cancel_sync", { run_id: runId })).isError).toBe(true);

    const resumed = (await call("sync_data", { job: "code", wait: true, wait_seconds: 50 }))
      .structuredContent as unknown as SyncResult;
    expect(resumed.status).toBe("completed");
    expect(ws.documents("code").size).toBe(300);
    // every file reached the sink exactly once across both runs
    const keys = readFileSync(path.join(ws.dir, "calls.log"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\t")[2]!);
    expect(keys.length).toBe(300);
    expect(new Set(keys).size).toBe(300);

    // the bound is enforced: a wait a default client timeout would cut is refused, naming the field
    const tooLong = await call("sync_data", { job: "code", wait: true, wait_seconds: 120 }).catch(
      (e: unknown) => ({ isError: true, content: [{ type: "text" as const, text: String(e) }] }),
    );
    expect(tooLong.isError).toBe(true);
    expect(textOf(tooLong)).toContain("wait_seconds");
  });
});
