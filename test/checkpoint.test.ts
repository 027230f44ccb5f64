import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { rmSync } from "node:fs";
import type { SyncResult } from "../src/service/types.js";
import { gitConfig, runCli, Workspace } from "./helpers/workspace.js";

const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");

/** What `run --json` prints: the library's own SyncResult. */
type Result = SyncResult;

describe("checkpoint rule", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("holds the checkpoint while items are dead, and moves it once they are redriven and complete", async () => {
    ws = new Workspace();
    const first = ws.commit({ "a.md": "alpha", "b.md": "beta" });
    ws.write(
      "syncwarden.yaml",
      gitConfig({
        sink: `{ type: module, module: ${JSON.stringify(SINK)}, poison: poison.txt, log: calls.log }`,
      }),
    );
    expect((await runCli(["run"], { cwd: ws.dir })).code).toBe(0);
    expect(ws.checkpoint("code", "files")).toBe(first);

    const second = ws.commit({ "c.md": "gamma", "d.md": "delta", "e.md": "epsilon" });
    ws.write("poison.txt", "c.md\nd.md\n");
    const partial = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(partial.code, partial.stderr).toBe(3);
    const r1 = JSON.parse(partial.stdout) as Result;
    expect(r1.status).toBe("partial");
    expect(r1.phases[0]).toMatchObject({ total: 3, completed: 1, dead: 2, checkpoint: first });
    expect(ws.checkpoint("code", "files")).toBe(first);

    const failed = await runCli(["failed", "--json"], { cwd: ws.dir });
    const dead = JSON.parse(failed.stdout) as {
      key: string;
      status: string;
      errorClass: string;
      error: string;
    }[];
    expect(dead.map((d) => d.key).sort()).toEqual(["c.md", "d.md"]);
    for (const d of dead) {
      expect(d).toMatchObject({ status: "DEAD", errorClass: "permanent" });
      expect(d.error).toContain("poison list");
    }

    // fixing the cause alone does not revive dead items: they stay parked until redriven
    rmSync(path.join(ws.dir, "poison.txt"));
    const still = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(still.code).toBe(3);
    expect(ws.checkpoint("code", "files")).toBe(first);

    const retry = await runCli(["retry", "--dead", "--json"], { cwd: ws.dir });
    expect(JSON.parse(retry.stdout)).toMatchObject({ requeued: 2 });
    const done = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(done.code, done.stderr).toBe(0);
    expect((JSON.parse(done.stdout) as Result).status).toBe("completed");
    expect(ws.checkpoint("code", "files")).toBe(second);
    expect([...ws.documents("code").keys()].sort()).toEqual(["a.md", "b.md", "c.md", "d.md", "e.md"]);
  });

  it("retries transient failures within the run and parks items that exhaust max_retries as dead", async () => {
    ws = new Workspace();
    const head = ws.commit({ "ok.md": "fine", "flaky.md": "once", "broken.md": "never" });
    ws.write("flaky.txt", "flaky.md\n");
    ws.write("broken.txt", "broken.md\n");
    ws.write(
      "syncwarden.yaml",
      gitConfig({
        sink: `{ type: module, module: ${JSON.stringify(SINK)}, flaky: flaky.txt, always_fail: broken.txt, log: calls.log }`,
      }),
    );
    const run = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(run.code).toBe(3);
    expect((JSON.parse(run.stdout) as Result).phases[0]).toMatchObject({
      total: 3,
      completed: 2,
      dead: 1,
      failed: 0,
    });
    const dead = JSON.parse((await runCli(["failed", "--json"], { cwd: ws.dir })).stdout) as Record<
      string,
      unknown
    >[];
    // max_retries: 2 → one attempt and two retries, then dead with its class and reason
    expect(dead).toEqual([
      expect.objectContaining({
        key: "broken.md",
        status: "DEAD",
        errorClass: "transient",
        attempts: 3,
        reason: "retries exhausted",
      }),
    ]);
    expect(ws.checkpoint("code", "files")).toBeNull();

    rmSync(path.join(ws.dir, "broken.txt"));
    expect((await runCli(["retry", "code", "--dead"], { cwd: ws.dir })).code).toBe(0);
    expect((await runCli(["run"], { cwd: ws.dir })).code).toBe(0);
    expect(ws.checkpoint("code", "files")).toBe(head);
  });
});
