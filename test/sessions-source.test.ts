import { spawn } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig, openServices, type Services } from "../src/index.js";
import { episodeOrigin } from "../src/connectors/sinks/episode-origin.js";
import type { SyncResult } from "../src/service/types.js";
import { CLI, runCli, Workspace } from "./helpers/workspace.js";
import { appendTurns, copySessionFixtures, turnLines, uuidOf, writeSessions } from "./helpers/sessions.js";

const MAIN = "5c1e9f0a-2b7d-4e8a-9c3f-1a2b3c4d5e01";
const CORRUPT = "7d2e4f6a-8b9c-4d0e-a1f2-3b4c5d6e7f02";
const ORIGINAL = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c03";
const RESUMED = "0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a04";
const CODEX = "019a7c3e-1f2d-7a4b-9c8d-0e1f2a3b4c05";
const SLOW_SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");

/** The file `claude --resume` started was written after its original. */
function resumedLater(ws: Workspace): void {
  const later = new Date(Date.now() - 1_800_000);
  utimesSync(path.join(ws.dir, "sessions/claude/-home-dev-api", `${RESUMED}.jsonl`), later, later);
}

function sessionsConfig(source = "", sink = "{ type: sqlite-docs, table: episodes }"): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0, max_workers: 2 }
jobs:
  memory:
    phases:
      - name: episodes
        source: { type: sessions, path: ["./sessions/claude/**/*.jsonl", "./sessions/codex/**/*.jsonl"]${source} }
        sink: ${sink}
`;
}

/** key → metadata of every episode document. */
function metadata(ws: Workspace): Map<string, Record<string, unknown>> {
  const db = ws.db();
  try {
    const rows = db
      .prepare<[], { key: string; metadata: string }>(
        "SELECT key, metadata FROM documents WHERE job = 'memory'",
      )
      .all();
    return new Map(rows.map((r) => [r.key, JSON.parse(r.metadata) as Record<string, unknown>]));
  } finally {
    db.close();
  }
}

/** Every (session, turn) the episodes cover, from their keys: each must appear once. */
function coveredTurns(keys: Iterable<string>): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const m = /^(.*):(\d+)-(\d+)$/.exec(key)!;
    for (let t = Number(m[2]); t <= Number(m[3]); t++) out.push(`${m[1]}#${t}`);
  }
  return out.sort();
}

const phase = (r: SyncResult) => r.phases[0]!;

describe("sessions source", () => {
  let ws: Workspace;
  let services: Services | undefined;
  afterEach(async () => {
    await services?.close();
    services = undefined;
    ws.cleanup();
  });

  const open = (config: string): Services => {
    ws.write("syncwarden.yaml", config);
    services = openServices(loadConfig(ws.configFile));
    return services;
  };
  const run = (extra: Partial<Parameters<Services["sync"]["execute"]>[0]> = {}) =>
    services!.sync.execute({ job: "memory", trigger: "api", ...extra });

  it("turns every fixture transcript into episodes: main line only, tool results in, metadata and other sessions out", async () => {
    ws = new Workspace();
    copySessionFixtures(path.join(ws.dir, "sessions"));
    resumedLater(ws);
    open(sessionsConfig());
    const result = await run();
    expect(result.status, JSON.stringify(result)).toBe("completed");
    const docs = ws.documents("memory", "episodes");
    // the resumed file repeats turns 0-2 of its original: only its own turns 3-4 are extracted
    expect([...docs.keys()].sort()).toEqual(
      [`${CODEX}:0-1`, `${CORRUPT}:0-2`, `${MAIN}:0-4`, `${ORIGINAL}:0-2`, `${RESUMED}:3-4`].sort(),
    );

    const main = docs.get(`${MAIN}:0-4`)!;
    // a streamed partial record and its final copy count once; split records of one message both count
    expect(main.split("I'll look at").length - 1).toBe(1);
    expect(main).toContain("I'll look at src/auth.ts first.");
    expect(main).toContain('[tool Read] {"file_path":"/home/dev/shop/src/auth.ts"}');
    expect(main).toContain("→ error: FAIL test/auth.test.ts");
    expect(main).toContain("Keep zod, but retry the database connection on ECONNRESET");
    // the compaction's new root is followed: the turns after it are on the main line
    expect(main).toContain("Now document the retry in the README");
    expect(main).toContain("Committed as 3f2a1b0.");
    for (const absent of [
      "yup", // the rewound branch
      "SIDECHAIN", // a subagent's record
      "Refactor the payment webhooks", // another session's summary line
      "Caveat", // a meta record
      "being continued", // the compact summary
      "The body is unchecked", // thinking
    ])
      expect(main).not.toContain(absent);
    expect(main.match(/^## User$/gm)).toHaveLength(5);

    const resumed = docs.get(`${RESUMED}:3-4`)!;
    expect(resumed).toContain("Now bump zod to v4 too");
    expect(resumed).not.toContain("Upgrade express");

    const codex = docs.get(`${CODEX}:0-1`)!;
    expect(codex).toContain("[tool shell] bash -lc rg -n ECONNRESET src");
    expect(codex).toContain("→ src/net/client.ts:41:");
    expect(codex).toContain("[tool apply_patch] *** Begin Patch");
    expect(codex).toContain("client.ts now retries ECONNRESET twice");
    expect(codex).not.toContain("environment_context");
    expect(codex).not.toContain("Searching for the socket code");

    const meta = metadata(ws);
    expect(meta.get(`${MAIN}:0-4`)).toEqual({
      format: "claude-code",
      session: MAIN,
      file: `sessions/claude/-home-dev-shop/${MAIN}.jsonl`,
      project: "/home/dev/shop",
      git_branch: "feature/auth",
      model: "claude-sonnet-4-5-20250929",
      tools: ["Read", "Bash", "Edit"],
      first_turn: 0,
      last_turn: 4,
      started_at: "2026-11-30T09:00:01.000Z",
      ended_at: "2026-11-30T09:06:05.000Z",
      first_uuid: "5c1e9f0a-0000-4000-8000-000000000001",
      last_uuid: "5c1e9f0a-0000-4000-8000-000000000027",
    });
    // what the memory sink records of an episode's origin
    expect(episodeOrigin(meta.get(`${MAIN}:0-4`)!)).toEqual({
      session: MAIN,
      firstTurn: 0,
      lastTurn: 4,
      startedAt: Date.parse("2026-11-30T09:00:01.000Z"),
      endedAt: Date.parse("2026-11-30T09:06:05.000Z"),
      source: `sessions/claude/-home-dev-shop/${MAIN}.jsonl`,
      metadata: {
        format: "claude-code",
        project: "/home/dev/shop",
        git_branch: "feature/auth",
        model: "claude-sonnet-4-5-20250929",
        tools: ["Read", "Bash", "Edit"],
        first_uuid: "5c1e9f0a-0000-4000-8000-000000000001",
        last_uuid: "5c1e9f0a-0000-4000-8000-000000000027",
      },
    });
    expect(meta.get(`${CODEX}:0-1`)).toMatchObject({
      format: "codex",
      session: CODEX,
      project: "/home/dev/cli",
      git_branch: "main",
      model: "gpt-5-codex",
      tools: ["shell", "apply_patch"],
    });

    // corrupt lines are counted and named by file:line, the rest of the file is indexed
    const warning = result.warnings.find((w) => w.includes("malformed"));
    expect(warning).toContain("2 malformed lines skipped");
    expect(warning).toContain(`sessions/claude/-home-dev-shop/${CORRUPT}.jsonl:3`);
    expect(warning).toContain(`sessions/claude/-home-dev-shop/${CORRUPT}.jsonl:5`);
    expect(docs.get(`${CORRUPT}:0-2`)).toContain("Added test/cache.test.ts covering expiry.");

    // nothing changed: the next run reads no file and lists nothing
    const again = await run();
    expect(phase(again).total).toBe(0);
    expect(phase(again).checkpoint).toBe(phase(result).checkpoint);
  });

  it("cuts sessions into bounded episodes, each turn in exactly one", async () => {
    ws = new Workspace();
    copySessionFixtures(path.join(ws.dir, "sessions"));
    resumedLater(ws);
    open(sessionsConfig(", episode_turns: 2, episode_chars: 400"));
    expect((await run()).status).toBe("completed");
    const docs = ws.documents("memory", "episodes");
    const turns = coveredTurns(docs.keys());
    expect(turns).toEqual([...new Set(turns)]);
    const expected = [
      ...[0, 1].map((t) => `${CODEX}#${t}`),
      ...[0, 1, 2].map((t) => `${CORRUPT}#${t}`),
      ...[0, 1, 2, 3, 4].map((t) => `${MAIN}#${t}`),
      ...[0, 1, 2].map((t) => `${ORIGINAL}#${t}`),
      ...[3, 4].map((t) => `${RESUMED}#${t}`),
    ].sort();
    expect(turns).toEqual(expected);
    for (const [key, text] of docs) {
      const m = /:(\d+)-(\d+)$/.exec(key)!;
      const count = Number(m[2]) - Number(m[1]) + 1;
      expect(count).toBeLessThanOrEqual(2);
      // only a single turn may pass the character bound on its own
      if (count > 1) expect(text.length).toBeLessThan(400 + 120);
    }
    // the character bound closes episodes before the turn bound does
    expect([...docs.keys()].filter((k) => k.startsWith(MAIN)).sort()).toEqual(
      [`${MAIN}:0-0`, `${MAIN}:1-1`, `${MAIN}:2-2`, `${MAIN}:3-4`].sort(),
    );
  });

  it("a growing session lists only new episodes; its trailing turns wait for idle_after; a rewritten file is re-done", async () => {
    ws = new Workspace();
    const dir = path.join(ws.dir, "sessions/claude");
    const [s] = writeSessions(dir, { sessions: 1, turns: 3, mtime: new Date() });
    open(sessionsConfig(", idle_after: 1h, episode_turns: 2"));

    // turns 0 and 1 are closed by a later prompt; turn 2 is still open
    const first = await run();
    expect(phase(first).total).toBe(1);
    expect([...ws.documents("memory").keys()]).toEqual([`${s!.id}:0-1`]);

    appendTurns(s!, 3); // turns 3-5; now 2-4 are complete and 5 is open
    const second = await run();
    expect(phase(second).total).toBe(1);
    expect(phase(second).completed).toBe(1);
    expect([...ws.documents("memory").keys()].sort()).toEqual([`${s!.id}:0-1`, `${s!.id}:2-3`]);

    // unchanged and not idle: nothing listed, the checkpoint stays
    const third = await run();
    expect(phase(third).total).toBe(0);
    expect(phase(third).checkpoint).toBe(phase(second).checkpoint);

    // idle now: the trailing turns 4-5 are emitted as the last episode
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(s!.file, old, old);
    const fourth = await run();
    expect(phase(fourth).total).toBe(1);
    const docs = ws.documents("memory");
    expect([...docs.keys()].sort()).toEqual([`${s!.id}:0-1`, `${s!.id}:2-3`, `${s!.id}:4-5`]);
    expect(coveredTurns(docs.keys())).toHaveLength(6);

    // rewritten: turn 1's answer changed in place; the file is read from turn 0 again
    const text = readFileSync(s!.file, "utf8");
    const rewritten = text.replace(/(Turn 1: check [^"]*)"/, '$1 (edited)"');
    expect(rewritten).not.toBe(text);
    writeFileSync(s!.file, rewritten);
    utimesSync(s!.file, old, old);
    const fifth = await run();
    expect(phase(fifth).total).toBe(3);
    expect(phase(fifth).completed).toBe(1);
    expect(phase(fifth).skipped).toBe(2);
    expect(ws.documents("memory").get(`${s!.id}:0-1`)).toContain("(edited)");

    // shrunk to its first 2 turns (8 records): the episodes past it no longer exist and are deleted
    writeFileSync(s!.file, rewritten.split("\n").slice(0, 8).join("\n") + "\n");
    utimesSync(s!.file, old, old);
    const sixth = await run();
    expect(phase(sixth).skipped).toBe(1);
    expect(phase(sixth).completed).toBe(2); // two deletions
    expect([...ws.documents("memory").keys()]).toEqual([`${s!.id}:0-1`]);
  });

  it("a rewind after episodes were emitted re-reads the session: the new branch replaces the rewound turns", async () => {
    ws = new Workspace();
    const [s] = writeSessions(path.join(ws.dir, "sessions/claude"), { sessions: 1, turns: 3 });
    open(sessionsConfig(", idle_after: 1h"));
    expect((await run()).status).toBe("completed");
    expect([...ws.documents("memory").keys()]).toEqual([`${s!.id}:0-2`]);

    // /rewind to the end of turn 0, then a new prompt: turns 1-2 leave the main line
    const branch = turnLines({ ...s!, id: `${s!.id}-branch` }, 1, uuidOf(`${s!.id}:0:3`));
    const later = (line: string): string =>
      line.replace(/"timestamp":"[^"]+"/, `"timestamp":"${new Date(Date.UTC(2027, 0, 1)).toISOString()}"`);
    appendFileSync(s!.file, branch.lines.map((l) => `${later(l)}\n`).join(""));
    const old = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(s!.file, old, old);
    const result = await run();
    expect(result.status).toBe("completed");
    const docs = ws.documents("memory");
    expect([...docs.keys()]).toEqual([`${s!.id}:0-1`]);
    expect(docs.get(`${s!.id}:0-1`)).toContain("Turn 0: check");
    expect(docs.get(`${s!.id}:0-1`)?.match(/Turn 1: check/g)).toHaveLength(1);
    expect(docs.get(`${s!.id}:0-1`)).not.toContain("Turn 2: check");
  });

  it("keeps a bounded number of state blobs, always the one the checkpoint names", async () => {
    ws = new Workspace();
    const [s] = writeSessions(path.join(ws.dir, "sessions/claude"), {
      sessions: 1,
      turns: 2,
      mtime: new Date(),
    });
    open(sessionsConfig(", idle_after: 1h, episode_turns: 1"));
    for (let i = 0; i < 14; i++) {
      appendTurns(s!, 1);
      expect((await run()).status).toBe("completed");
    }
    expect(ws.documents("memory").size).toBe(15); // turns 0-14 closed; turn 15 open
    const db = ws.db();
    try {
      const blobs = db
        .prepare<[], { key: string }>(
          "SELECT key FROM metadata WHERE key LIKE 'sessions-state:memory:episodes:%'",
        )
        .all()
        .map((r) => r.key);
      expect(blobs.length).toBeLessThanOrEqual(9);
      const checkpoint = ws.checkpoint("memory", "episodes")!;
      expect(blobs).toContain(`sessions-state:memory:episodes:${checkpoint.slice("sessions:".length)}`);
    } finally {
      db.close();
    }
  });

  it("a growing Codex rollout is read from its checkpoint on: new turns keep the session's cwd, branch and model", async () => {
    ws = new Workspace();
    copySessionFixtures(path.join(ws.dir, "sessions"), new Date());
    open(sessionsConfig(", idle_after: 1h, episode_turns: 1"));
    const first = await run();
    // turn 1 is the last one: still open
    expect([...ws.documents("memory").keys()].filter((k) => k.startsWith(CODEX))).toEqual([`${CODEX}:0-0`]);
    const file = path.join(ws.dir, "sessions/codex/2026/11/30", `rollout-2026-11-30T10-00-00-${CODEX}.jsonl`);
    const line = (role: string, text: string, type: string) =>
      JSON.stringify({
        timestamp: "2026-11-30T10:05:00.000Z",
        type: "response_item",
        payload: { type: "message", role, content: [{ type, text }] },
      });
    appendFileSync(file, `${line("user", "Add a test for the retry", "input_text")}\n`);
    appendFileSync(file, `${line("assistant", "Added test/client.test.ts.", "output_text")}\n`);
    const second = await run();
    expect(phase(second).total).toBe(1); // only the turn the new prompt closed
    expect(phase(second).checkpoint).not.toBe(phase(first).checkpoint);
    expect(ws.documents("memory").get(`${CODEX}:1-1`)).toContain("client.ts now retries ECONNRESET twice");
    expect(metadata(ws).get(`${CODEX}:1-1`)).toMatchObject({
      project: "/home/dev/cli",
      git_branch: "main",
      model: "gpt-5-codex",
      tools: ["apply_patch"],
    });
  });

  it("--ids names sessions: a scoped run lists only their episodes and leaves the main checkpoint", async () => {
    ws = new Workspace();
    copySessionFixtures(path.join(ws.dir, "sessions"));
    open(sessionsConfig());
    const scoped = await run({ scope: { ids: [MAIN, CODEX] } });
    expect(scoped.status).toBe("completed");
    expect([...ws.documents("memory").keys()].sort()).toEqual([`${CODEX}:0-1`, `${MAIN}:0-4`].sort());
    expect(ws.checkpoint("memory", "episodes")).toBeNull();
    // its checkpoint is its own state of every file: --since means nothing to it, and says so
    await expect(run({ scope: { since: "1d" } })).rejects.toThrow(
      /no phase of job memory takes a since value/,
    );
  });

  it("a path that matches no transcript is a warning, not a failure", async () => {
    ws = new Workspace();
    open(sessionsConfig());
    const result = await run();
    expect(result.status).toBe("completed");
    expect(result.warnings.join("\n")).toContain("no transcript matches");
  });

  it("kill -9 mid-plan loses nothing: the next run finishes the plan and the checkpoint names its state", async () => {
    ws = new Workspace();
    writeSessions(path.join(ws.dir, "sessions/claude"), { sessions: 24, turns: 3 });
    ws.write(
      "syncwarden.yaml",
      sessionsConfig(
        "",
        `{ type: module, module: ${JSON.stringify(SLOW_SINK)}, delay_ms: 120, log: calls.log, table: episodes }`,
      ).replace("max_workers: 2", "max_workers: 1"),
    );
    const log = path.join(ws.dir, "calls.log");
    const child = spawn(process.execPath, [CLI, "run"], { cwd: ws.dir, stdio: "ignore" });
    const exited = new Promise((r) => child.on("exit", (_c, signal) => r(signal)));
    const until = Date.now() + 30_000;
    while (
      !(existsSync(log) && readFileSync(log, "utf8").split("\n").filter(Boolean).length >= 3) &&
      Date.now() < until
    )
      await new Promise((r) => setTimeout(r, 20));
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(ws.checkpoint("memory", "episodes")).toBeNull(); // the plan did not close

    const again = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(again.code, again.stderr).toBe(0);
    const docs = ws.documents("memory", "episodes");
    expect(docs.size).toBe(24);
    const db = ws.db();
    try {
      const closed = db
        .prepare<[], { target: string }>(
          "SELECT target FROM plans WHERE job = 'memory' AND state = 'closed' ORDER BY id",
        )
        .all();
      const checkpoint = ws.checkpoint("memory", "episodes");
      expect(closed[0]!.target).toBe(checkpoint);
      expect(checkpoint).toMatch(/^sessions:[0-9a-f]{40}$/);
      const blob = db
        .prepare<[string], { value: string }>("SELECT value FROM metadata WHERE key = ?")
        .get(`sessions-state:memory:episodes:${checkpoint!.slice("sessions:".length)}`);
      const state = JSON.parse(blob!.value) as { files: Record<string, { next: number }> };
      expect(Object.values(state.files).map((f) => f.next)).toEqual(Array(24).fill(3));
    } finally {
      db.close();
    }
  });
});
