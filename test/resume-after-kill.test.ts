import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, gitConfig, runCli, Workspace } from "./helpers/workspace.js";

const FILES = 2000;
const KILLS = 5;
const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");

/** Keys COMPLETED so far; none when the kill came before the ledger was created or migrated. */
function completedKeys(ws: Workspace): Set<string> {
  if (!existsSync(ws.dbFile)) return new Set();
  const db = ws.db();
  try {
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'items'").get())
      return new Set();
    return new Set(
      db
        .prepare<[], { key: string }>("SELECT key FROM items WHERE status = 'COMPLETED'")
        .all()
        .map((r) => r.key),
    );
  } finally {
    db.close();
  }
}

/** Sink calls logged so far, by every attempt. */
function callCount(ws: Workspace): number {
  const log = path.join(ws.dir, "calls.log");
  return existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).length : 0;
}

function callsByPid(ws: Workspace): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const line of readFileSync(path.join(ws.dir, "calls.log"), "utf8").split("\n").filter(Boolean)) {
    const [pid, , key] = line.split("\t");
    const list = out.get(Number(pid)) ?? [];
    list.push(key!);
    out.set(Number(pid), list);
  }
  return out;
}

describe("resume after kill -9", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("indexes every file exactly once, never redoes completed work, and moves the checkpoint only at the end", async () => {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < FILES; i++)
      files[`src/dir${i % 37}/file-${i}.txt`] = `file number ${i}\nword${i} shared text\n`;
    const head = ws.commit(files, "two thousand files");
    ws.write(
      "syncwarden.yaml",
      gitConfig({
        sink: `{ type: module, module: ${JSON.stringify(SINK)}, delay_ms: 10, log: calls.log, table: code }`,
      }),
    );

    const snapshots: Set<string>[] = [];
    const pids: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      const child = spawn(process.execPath, [CLI, "run"], { cwd: ws.dir, stdio: "ignore" });
      pids.push(child.pid!);
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.on("exit", (_code, signal) => resolve(signal)),
      );
      // killed at a random point once this attempt has made progress (its first sink call): a fixed
      // delay killed every attempt before any work on a loaded machine (start-up alone took > 1 s)
      const before = callCount(ws);
      const waitUntil = Date.now() + 30_000;
      while (callCount(ws) === before && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 700)); // > the 100 ms settle delay
      child.kill("SIGKILL");
      expect(await exited).toBe("SIGKILL");
      snapshots.push(completedKeys(ws));
      // the plan is unfinished: the checkpoint must not have moved
      expect(ws.checkpoint("code", "files")).toBeNull();
    }
    expect(snapshots.at(-1)!.size).toBeGreaterThan(0);
    expect(snapshots.at(-1)!.size).toBeLessThan(FILES);

    const final = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(final.code, final.stderr).toBe(0);
    const result = JSON.parse(final.stdout) as {
      status: string;
      phases: { total: number; completed: number; dead: number; pending: number; failed: number }[];
    };
    expect(result.status).toBe("completed");
    expect(result.phases[0]).toMatchObject({
      total: FILES,
      completed: FILES,
      dead: 0,
      pending: 0,
      failed: 0,
    });
    expect(ws.checkpoint("code", "files")).toBe(head);

    // every file is in the index exactly once, with its content
    const docs = ws.documents("code");
    expect(docs.size).toBe(FILES);
    for (const [key, content] of Object.entries(files)) expect(docs.get(key)).toBe(content);

    // no item completed before a kill was processed by any later run
    const calls = callsByPid(ws);
    pids.push(...[...calls.keys()].filter((p) => !pids.includes(p)));
    for (let r = 1; r < pids.length; r++) {
      const doneBefore = snapshots[Math.min(r - 1, snapshots.length - 1)]!;
      const redone = (calls.get(pids[r]!) ?? []).filter((key) => doneBefore.has(key));
      expect(redone, `run ${r} redid completed items`).toEqual([]);
    }
    // and every key reached the sink at least once
    const called = new Set([...calls.values()].flat());
    expect(called.size).toBe(FILES);
  });
});
