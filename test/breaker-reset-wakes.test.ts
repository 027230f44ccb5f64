import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { CLI, runCli, Workspace, type CliResult } from "./helpers/workspace.js";

const FILES = 6;
/** Far below the breaker's 300 s open period (and the 60 s deferral of an isolated breaker). */
const RESUME_BOUND_MS = 30_000;

function config(url: string): string {
  return `sync: { max_retries: 20, retry_wait_seconds: 0, max_workers: 2 }
providers:
  embeddings:
    base_url: ${url}/v1
    retry: { max_attempts: 2, base_delay: 0.01, max_delay: 0.02 }
    breaker: { failure_threshold: 2, success_threshold: 1, timeout: 300, max_timeout: 600 }
    timeout: 2
jobs:
  notes:
    phases:
      - name: files
        source: { type: git, repo: ./repo }
        enrich: [{ type: openai-embeddings, provider: embeddings, model: test-embed, batch_size: 8 }]
        sink: { type: sqlite-docs, table: notes }
`;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the state database (read-only) until `ready` holds; bounded in time and count. */
async function until(ws: Workspace, ready: (db: ReturnType<Workspace["db"]>) => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (existsSync(ws.dbFile)) {
      const db = ws.db();
      try {
        if (ready(db)) return;
      } catch {
        // tables not created yet
      } finally {
        db.close();
      }
    }
    await pause(100);
  }
  throw new Error("the run never got to wait on the open breaker");
}

/** Every item of the run is deferred by the open breaker, waiting for it. */
function allDeferred(db: ReturnType<Workspace["db"]>): boolean {
  const n = db
    .prepare<[], number>(
      "SELECT COUNT(*) FROM items WHERE status = 'PENDING' AND reason = 'deferred' AND next_attempt_at IS NOT NULL",
    )
    .pluck()
    .get();
  return n === FILES;
}

/** `syncwarden run --json` as a child process that can be stopped. */
function startRun(cwd: string): { result: Promise<CliResult>; stop: () => void } {
  const child = spawn(process.execPath, [CLI, "run", "--json"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { result, stop: () => child.kill("SIGKILL") };
}

/** The run's result within the bound, or null (the run is then stopped). */
async function within(run: ReturnType<typeof startRun>, ms: number): Promise<CliResult | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  try {
    const done = await Promise.race([run.result, timeout]);
    if (done === null) {
      run.stop();
      await run.result;
    }
    return done;
  } finally {
    clearTimeout(timer);
  }
}

describe("breakers: a reset by hand wakes runs waiting out an open breaker", () => {
  let ws: Workspace;
  let server: FaultServer;
  const stops: (() => void)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) stop();
    await server.close();
    ws.cleanup();
  });

  function setup(): (...args: string[]) => Promise<CliResult> {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) files[`note-${i}.md`] = `note ${i} about glaciers`;
    ws.commit(files);
    ws.write("syncwarden.yaml", config(server.url));
    return (...args: string[]) => runCli(args, { cwd: ws.dir });
  }

  it("14.3 a run waiting out an open breaker (300 s) resumes and completes soon after `breakers reset` from another process", async () => {
    server = await startFaultServer();
    const cli = setup();
    server.embeddingsDown = true;
    const run = startRun(ws.dir);
    stops.push(run.stop);
    await until(ws, (db) => {
      const b = db
        .prepare<[], { state: string }>("SELECT state FROM breakers WHERE provider = 'embeddings'")
        .get();
      return b?.state === "open" && allDeferred(db);
    });

    server.embeddingsDown = false;
    const reset = await cli("breakers", "reset", "embeddings");
    expect(reset.code, reset.stderr).toBe(0);
    const done = await within(run, RESUME_BOUND_MS);
    expect(done, "the run still waited for the old due time").not.toBeNull();
    expect(done!.code, done!.stderr).toBe(0);
    expect(JSON.parse(done!.stdout)).toMatchObject({ status: "completed", degradation: "full" });
    expect(ws.documents("notes").size).toBe(FILES);
  });

  it("14.3 a run held by an isolated breaker resumes and completes soon after `breakers reset` from another process", async () => {
    server = await startFaultServer();
    const cli = setup();
    expect((await cli("breakers", "isolate", "embeddings")).code).toBe(0);
    const run = startRun(ws.dir);
    stops.push(run.stop);
    await until(ws, allDeferred);

    const reset = await cli("breakers", "reset", "embeddings");
    expect(reset.code, reset.stderr).toBe(0);
    const done = await within(run, RESUME_BOUND_MS);
    expect(done, "the run still waited for the old due time").not.toBeNull();
    expect(done!.code, done!.stderr).toBe(0);
    expect(JSON.parse(done!.stdout)).toMatchObject({ status: "completed", degradation: "full" });
    expect(ws.documents("notes").size).toBe(FILES);
  });
});
