import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, utimesSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, runCli, Workspace, type CliResult } from "./helpers/workspace.js";
import { turnLines, uuidOf, writeSessions } from "./helpers/sessions.js";

const SLOW_SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");

/** `syncwarden …` with `input` on its stdin, as Claude Code runs a hook. */
function runWithStdin(args: readonly string[], input: string, cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(input);
  });
}

const hookJson = (file: string, event = "SessionEnd"): string =>
  JSON.stringify({
    session_id: path.basename(file, ".jsonl"),
    transcript_path: file,
    cwd: "/home/dev/project",
    hook_event_name: event,
    reason: "exit",
  });

function config(sink = "{ type: sqlite-docs, table: episodes }", workers = 2): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0, max_workers: ${workers} }
jobs:
  memory:
    phases:
      - name: episodes
        source: { type: sessions, path: ./sessions/**/*.jsonl, idle_after: 1h }
        sink: ${sink}
  other:
    phases:
      - name: notes
        source: { type: sessions, path: ./elsewhere/*.jsonl }
`;
}

describe("sessions hook", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("marks the transcript ended: the next run emits the trailing turns that were waiting; --run runs it at once", async () => {
    ws = new Workspace();
    const [a, b] = writeSessions(path.join(ws.dir, "sessions"), { sessions: 2, turns: 3, mtime: new Date() });
    ws.write("syncwarden.yaml", config());
    // active sessions: turns 0-1 are complete but their episode waits (fewer than 8 turns), turn 2 is open
    const first = await runCli(["run", "memory"], { cwd: ws.dir });
    expect(first.code, first.stderr).toBe(0);
    expect(existsSync(ws.dbFile) ? ws.documents("memory").size : 0).toBe(0);

    const hook = await runWithStdin(["sessions", "hook"], hookJson(a!.file), ws.dir);
    expect(hook.code, hook.stderr).toBe(0);
    expect(hook.stderr).toContain("the next run of memory emits its last turns");
    expect(ws.documents("memory").size).toBe(0);
    expect((await runCli(["run", "memory"], { cwd: ws.dir })).code).toBe(0);
    expect([...ws.documents("memory").keys()]).toEqual([`${a!.id}:0-2`]);

    // PreCompact with --run: flushed and run now
    const flush = await runWithStdin(["sessions", "hook", "--run"], hookJson(b!.file, "PreCompact"), ws.dir);
    expect(flush.code, flush.stderr).toBe(0);
    expect(flush.stderr).toContain("ran memory: completed, 1/1 episodes");
    expect([...ws.documents("memory").keys()].sort()).toEqual([`${a!.id}:0-2`, `${b!.id}:0-2`].sort());
  });

  it("PreCompact flushes the open turn; what the agent writes after the compaction continues the session once", async () => {
    ws = new Workspace();
    const [s] = writeSessions(path.join(ws.dir, "sessions"), { sessions: 1, turns: 3, mtime: new Date() });
    ws.write("syncwarden.yaml", config());
    const flush = await runWithStdin(["sessions", "hook", "--run"], hookJson(s!.file, "PreCompact"), ws.dir);
    expect(flush.code, flush.stderr).toBe(0);
    expect([...ws.documents("memory").keys()]).toEqual([`${s!.id}:0-2`]);

    // the compaction: a new root continuing the line, its summary, then the interrupted turn goes on
    const last = uuidOf(`${s!.id}:2:3`);
    const common = { isSidechain: false, cwd: s!.project, sessionId: s!.id, gitBranch: "main" };
    const records = [
      {
        ...common,
        parentUuid: null,
        logicalParentUuid: last,
        type: "system",
        subtype: "compact_boundary",
        content: "Conversation compacted",
        uuid: "c0000000-0000-4000-8000-000000000001",
        timestamp: "2026-12-01T00:00:00.000Z",
      },
      {
        ...common,
        parentUuid: "c0000000-0000-4000-8000-000000000001",
        type: "user",
        isCompactSummary: true,
        isVisibleInTranscriptOnly: true,
        message: { role: "user", content: "This session is being continued from a previous conversation." },
        uuid: "c0000000-0000-4000-8000-000000000002",
        timestamp: "2026-12-01T00:00:01.000Z",
      },
      {
        ...common,
        parentUuid: "c0000000-0000-4000-8000-000000000002",
        type: "assistant",
        message: {
          model: "claude-sonnet-4-5-20250929",
          id: "msg_after",
          role: "assistant",
          content: [{ type: "text", text: "Continuing after the compaction: the guard is in place." }],
          stop_reason: "end_turn",
        },
        uuid: "c0000000-0000-4000-8000-000000000003",
        timestamp: "2026-12-01T00:00:02.000Z",
      },
    ];
    const next = turnLines(s!, 3, "c0000000-0000-4000-8000-000000000003");
    appendFileSync(
      s!.file,
      [...records.map((r) => JSON.stringify(r)), ...next.lines].map((l) => `${l}\n`).join(""),
    );
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(s!.file, old, old);
    expect((await runCli(["run", "memory"], { cwd: ws.dir })).code).toBe(0);
    const docs = ws.documents("memory");
    expect([...docs.keys()].sort()).toEqual([`${s!.id}:0-2`, `${s!.id}:3-4`]);
    const after = docs.get(`${s!.id}:3-4`)!;
    expect(after).toContain("Continuing after the compaction");
    expect(after).toContain("Turn 3: check");
    expect(after).not.toContain("being continued");
    expect(after).not.toContain("Turn 2: check");
  });

  it("bad stdin is exit 2 with the reason on stderr; a transcript no source covers is left alone (exit 0)", async () => {
    ws = new Workspace();
    ws.write("syncwarden.yaml", config());
    const empty = await runWithStdin(["sessions", "hook"], "", ws.dir);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("stdin is not the hook's JSON (it is empty)");
    const noPath = await runWithStdin(["sessions", "hook"], JSON.stringify({ session_id: "x" }), ws.dir);
    expect(noPath.code).toBe(2);
    expect(noPath.stderr).toContain("no transcript_path");
    const event = await runWithStdin(
      ["sessions", "hook"],
      JSON.stringify({ transcript_path: "/tmp/x.jsonl", hook_event_name: "Stop" }),
      ws.dir,
    );
    expect(event.code).toBe(2);
    expect(event.stderr).toContain('hook_event_name "Stop"');
    const stray = ws.write("stray/s.jsonl", "{}\n");
    const uncovered = await runWithStdin(["sessions", "hook", "--run"], hookJson(stray), ws.dir);
    expect(uncovered.code, uncovered.stderr).toBe(0);
    expect(uncovered.stderr).toContain("no sessions source covers");
  });

  it("--run while another run holds the job: exit 0, queued; that session's turns come with a later run", async () => {
    ws = new Workspace();
    writeSessions(path.join(ws.dir, "sessions"), { sessions: 12, turns: 2 });
    const [late] = writeSessions(path.join(ws.dir, "sessions"), {
      sessions: 1,
      turns: 2,
      first: 50,
      mtime: new Date(),
    });
    ws.write(
      "syncwarden.yaml",
      config(
        `{ type: module, module: ${JSON.stringify(SLOW_SINK)}, delay_ms: 150, log: calls.log, table: episodes }`,
        1,
      ),
    );
    const log = path.join(ws.dir, "calls.log");
    const busy = runCli(["run", "memory"], { cwd: ws.dir });
    const until = Date.now() + 30_000;
    while (!(existsSync(log) && readFileSync(log, "utf8").length > 0) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    const hook = await runWithStdin(["sessions", "hook", "--run"], hookJson(late!.file), ws.dir);
    expect(hook.code, hook.stderr).toBe(0);
    expect(hook.stderr).toContain("queued: memory is running now");
    expect((await busy).code).toBe(0);
    expect(ws.documents("memory", "episodes").has(`${late!.id}:0-1`)).toBe(false);
    expect((await runCli(["run", "memory"], { cwd: ws.dir })).code).toBe(0);
    expect(ws.documents("memory", "episodes").has(`${late!.id}:0-1`)).toBe(true);
    expect(ws.documents("memory", "episodes").size).toBe(13);
  });
});
