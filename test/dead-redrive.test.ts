import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gitConfig, runCli, Workspace } from "./helpers/workspace.js";

const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");
const FILES = 12;

interface ItemJson {
  key: string;
  status: string;
  attempts: number;
  error: string | null;
}

/** Job `code` over FILES files through the slow sink, which refuses (permanently) the keys in poison.txt. */
function setUp(sync: Record<string, unknown> = {}): Workspace {
  const ws = new Workspace();
  const files: Record<string, string> = {};
  for (let i = 0; i < FILES; i++) files[`f${String(i).padStart(2, "0")}.txt`] = `file ${i}\n`;
  ws.commit(files);
  ws.write("poison.txt", "f03.txt\nf07.txt\n");
  writeConfig(ws, sync);
  return ws;
}

function writeConfig(ws: Workspace, sync: Record<string, unknown>): void {
  ws.write(
    "syncwarden.yaml",
    gitConfig({
      sync,
      sink: `{ type: module, module: ${JSON.stringify(SINK)}, log: calls.log, poison: poison.txt, table: code }`,
    }),
  );
}

async function items(ws: Workspace, ...args: string[]): Promise<ItemJson[]> {
  const r = await runCli(["items", "code", "--json", ...args], { cwd: ws.dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as ItemJson[];
}

async function run(ws: Workspace): Promise<{ code: number | null; status: string; dead: number }> {
  const r = await runCli(["run", "--json"], { cwd: ws.dir });
  const result = JSON.parse(r.stdout) as { status: string; phases: { dead: number }[] };
  return { code: r.code, status: result.status, dead: result.phases[0]!.dead };
}

describe("dead items: redrive and listing", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("14.10 sync.redrive_dead_after returns DEAD items older than it to PENDING at the start of a run, with a fresh budget and an event; off by default", async () => {
    ws = setUp();
    expect(await run(ws)).toMatchObject({ code: 3, status: "partial", dead: 2 });
    ws.write("poison.txt", ""); // the cause is fixed
    // off by default: they stay dead
    expect(await run(ws)).toMatchObject({ code: 3, dead: 2 });
    // not old enough yet
    writeConfig(ws, { redrive_dead_after: "1h" });
    expect(await run(ws)).toMatchObject({ code: 3, dead: 2 });
    expect((await items(ws, "--status", "dead")).map((i) => [i.key, i.attempts])).toEqual([
      ["f03.txt", 1],
      ["f07.txt", 1],
    ]);

    writeConfig(ws, { redrive_dead_after: "1s" });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await run(ws)).toMatchObject({ code: 0, status: "completed", dead: 0 });
    expect(await items(ws, "--status", "dead")).toEqual([]);
    const redriven = (await items(ws, "--status", "completed")).filter((i) =>
      ["f03.txt", "f07.txt"].includes(i.key),
    );
    // a fresh budget: the failed attempts counted before are gone
    expect(redriven.map((i) => [i.key, i.attempts])).toEqual([
      ["f03.txt", 0],
      ["f07.txt", 0],
    ]);
    expect(ws.checkpoint("code", "files")).toBe(ws.head());
    const events = await runCli(["events", "code", "--json", "--limit", "200"], { cwd: ws.dir });
    const redrive = (JSON.parse(events.stdout) as { type: string; message: string }[]).filter(
      (e) => e.type === "items:redrive",
    );
    expect(redrive.map((e) => e.message)).toEqual([
      "code: 2 dead items older than 1s returned to pending with a fresh attempt budget (sync.redrive_dead_after)",
    ]);
  });

  it("14.10 sync.redrive_dead_after that is not a duration is a configuration error naming the key and the value", async () => {
    ws = setUp({ redrive_dead_after: "soon" });
    const r = await runCli(["run"], { cwd: ws.dir });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain("sync.redrive_dead_after");
    expect(r.stderr).toContain('"soon"');
    expect(existsSync(ws.dbFile)).toBe(false);
  });

  it("14.10 items JOB lists a job's items by status (--status, --limit, --json); a bad --status exits 2 naming the flag and the valid values", async () => {
    ws = setUp();
    // a bad flag is refused before any state is created
    const bad = await runCli(["items", "code", "--status", "pending,bogus"], { cwd: ws.dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--status");
    expect(bad.stderr).toContain('"bogus"');
    expect(bad.stderr).toContain("pending, processing, completed, skipped, failed, dead");
    expect(existsSync(ws.dbFile)).toBe(false);

    await run(ws);
    const all = await items(ws);
    expect(all).toHaveLength(FILES);
    expect(all.filter((i) => i.status === "DEAD").map((i) => i.key)).toEqual(["f03.txt", "f07.txt"]);
    const dead = await items(ws, "--status", "dead");
    expect(dead.map((i) => [i.key, i.status])).toEqual([
      ["f03.txt", "DEAD"],
      ["f07.txt", "DEAD"],
    ]);
    expect(dead[0]!.error).toContain("poison list");
    const completed = await items(ws, "--status", "completed", "--limit", "3");
    expect(completed.map((i) => i.key)).toEqual(["f00.txt", "f01.txt", "f02.txt"]);
    expect(await items(ws, "--status", "PENDING,processing")).toEqual([]);
    expect(await items(ws, "--status", "failed,dead")).toHaveLength(2);

    const text = await runCli(["items", "code", "--status", "dead"], { cwd: ws.dir });
    expect(text.stdout.split("\n").filter(Boolean)).toHaveLength(2);
    expect(text.stdout).toMatch(/^DEAD\tfiles\tf03\.txt\tattempts=1\t/);
    const none = await runCli(["items", "code", "--status", "pending"], { cwd: ws.dir });
    expect(none.stdout).toBe("no pending items of code\n");

    const unknownJob = await runCli(["items", "nope"], { cwd: ws.dir });
    expect(unknownJob.code).toBe(2);
    expect(unknownJob.stderr).toContain('unknown job "nope"');
    const badLimit = await runCli(["items", "code", "--limit", "0"], { cwd: ws.dir });
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain("--limit");
  });
});
