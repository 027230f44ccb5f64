import { createHash } from "node:crypto";
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Synthetic Claude Code transcripts with the real record shapes, for tests and the bench: N sessions of
// M turns, each turn mentioning deterministic entities (a file, a library, an error), and a way to append
// turns to a session as a running agent does.

export const SESSION_FIXTURES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../fixtures/sessions",
);

export const ENTITIES = {
  files: ["src/auth.ts", "src/db.ts", "src/cache.ts", "src/routes/search.ts", "src/net/client.ts"],
  libraries: ["zod", "express", "undici", "vitest", "pino"],
  errors: ["ECONNRESET", "ETIMEDOUT", "EADDRINUSE", "ERR_REQUIRE_ESM", "SQLITE_BUSY"],
} as const;

/** What turn `turn` of session number `session` mentions (the same every time). */
export function turnEntities(
  session: number,
  turn: number,
): { file: string; library: string; error: string } {
  const pick = <T>(list: readonly T[], n: number): T => list[n % list.length]!;
  return {
    file: pick(ENTITIES.files, session + turn),
    library: pick(ENTITIES.libraries, session * 3 + turn),
    error: pick(ENTITIES.errors, session + turn * 2),
  };
}

/** A uuid derived from a name, so files written twice are byte-identical. */
export function uuidOf(name: string): string {
  const h = createHash("sha1").update(name).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface SyntheticSession {
  /** Its number (entities depend on it), id (the file's name) and file. */
  index: number;
  id: string;
  file: string;
  project: string;
}

const BASE_TIME = Date.UTC(2026, 10, 1, 9, 0, 0);

/** The JSON lines of one turn: prompt, a tool call, its result, the answer. */
export function turnLines(
  s: Pick<SyntheticSession, "index" | "id" | "project">,
  turn: number,
  parent: string | null,
): { lines: string[]; last: string } {
  const e = turnEntities(s.index, turn);
  const at = (k: number): string =>
    new Date(BASE_TIME + s.index * 3_600_000 + turn * 60_000 + k * 1000).toISOString();
  const u = (k: number): string => uuidOf(`${s.id}:${turn}:${k}`);
  const common = {
    isSidechain: false,
    userType: "external",
    cwd: s.project,
    sessionId: s.id,
    version: "2.0.31",
    gitBranch: "main",
  };
  const toolId = `toolu_${u(9).replaceAll("-", "").slice(0, 20)}`;
  const usage = { input_tokens: 10, cache_read_input_tokens: 1200, output_tokens: 60 };
  const records = [
    {
      ...common,
      parentUuid: parent,
      type: "user",
      message: {
        role: "user",
        content: `Turn ${turn}: check ${e.file}, which uses ${e.library} and fails with ${e.error}`,
      },
      uuid: u(0),
      timestamp: at(0),
    },
    {
      ...common,
      parentUuid: u(0),
      type: "assistant",
      requestId: `req_${turn}_${s.index}`,
      message: {
        model: "claude-sonnet-4-5-20250929",
        id: `msg_${s.index}_${turn}_a`,
        type: "message",
        role: "assistant",
        content: [
          { type: "tool_use", id: toolId, name: "Read", input: { file_path: `${s.project}/${e.file}` } },
        ],
        stop_reason: "tool_use",
        usage,
      },
      uuid: u(1),
      timestamp: at(1),
    },
    {
      ...common,
      parentUuid: u(1),
      type: "user",
      message: {
        role: "user",
        content: [
          {
            tool_use_id: toolId,
            type: "tool_result",
            content: `import { z } from "${e.library}";\n// ${e.file}`,
            is_error: false,
          },
        ],
      },
      uuid: u(2),
      timestamp: at(2),
    },
    {
      ...common,
      parentUuid: u(2),
      type: "assistant",
      requestId: `req_${turn}_${s.index}_b`,
      message: {
        model: "claude-sonnet-4-5-20250929",
        id: `msg_${s.index}_${turn}_b`,
        type: "message",
        role: "assistant",
        content: [
          {
            type: "text",
            text: `${e.file} calls ${e.library} without handling ${e.error}; I added a guard.`,
          },
        ],
        stop_reason: "end_turn",
        usage,
      },
      uuid: u(3),
      timestamp: at(3),
    },
  ];
  return { lines: records.map((r) => JSON.stringify(r)), last: u(3) };
}

/** The uuid of the last record of a transcript (what the next turn hangs from). */
function lastUuid(file: string): string | null {
  const lines = readFileSync(file, "utf8").trimEnd().split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const r = JSON.parse(lines[i]!) as { uuid?: unknown };
      if (typeof r.uuid === "string") return r.uuid;
    } catch {
      // not a record
    }
  }
  return null;
}

function countTurns(file: string): number {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.includes('"type":"user"') && !l.includes("tool_result")).length;
}

/**
 * Writes `sessions` transcripts of `turns` turns each under `dir/<project>/<id>.jsonl` (Claude Code's
 * layout). `mtime` (default: an hour ago) makes them look finished, or not (`new Date()`).
 */
export function writeSessions(
  dir: string,
  o: { sessions: number; turns: number; first?: number; mtime?: Date },
): SyntheticSession[] {
  const out: SyntheticSession[] = [];
  for (let n = o.first ?? 0; n < (o.first ?? 0) + o.sessions; n++) {
    const project = `/home/dev/project-${n % 7}`;
    const s: SyntheticSession = {
      index: n,
      id: uuidOf(`session-${n}`),
      file: path.join(dir, `-home-dev-project-${n % 7}`, `${uuidOf(`session-${n}`)}.jsonl`),
      project,
    };
    mkdirSync(path.dirname(s.file), { recursive: true });
    const lines: string[] = [];
    let parent: string | null = null;
    for (let t = 0; t < o.turns; t++) {
      const turn = turnLines(s, t, parent);
      lines.push(...turn.lines);
      parent = turn.last;
    }
    writeFileSync(s.file, lines.map((l) => `${l}\n`).join(""));
    const mtime = o.mtime ?? new Date(Date.now() - 3_600_000);
    utimesSync(s.file, mtime, mtime);
    out.push(s);
  }
  return out;
}

/** Appends `count` turns to a session's transcript (as its agent would), then sets its mtime. */
export function appendTurns(s: SyntheticSession, count: number, mtime = new Date()): void {
  let parent = lastUuid(s.file);
  const start = countTurns(s.file);
  const lines: string[] = [];
  for (let t = start; t < start + count; t++) {
    const turn = turnLines(s, t, parent);
    lines.push(...turn.lines);
    parent = turn.last;
  }
  appendFileSync(s.file, lines.map((l) => `${l}\n`).join(""));
  utimesSync(s.file, mtime, mtime);
}

/** Copies the fixture transcripts into `dir` (claude/ and codex/), every file's mtime set to `mtime`. */
export function copySessionFixtures(dir: string, mtime = new Date(Date.now() - 3_600_000)): void {
  cpSync(SESSION_FIXTURES, dir, { recursive: true });
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else utimesSync(p, mtime, mtime);
    }
  };
  walk(dir);
}
