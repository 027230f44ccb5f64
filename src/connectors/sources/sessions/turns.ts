/** One turn of a session: a real user prompt and everything until the next one. */
export interface Turn {
  /** The prompt; null for a continuation (records after a flushed turn, before the next prompt). */
  prompt: string | null;
  /** The assistant's side in order: text, `[tool Name] input`, `→ result`. */
  parts: TurnPart[];
  tools: string[];
  model: string | null;
  /** Epoch ms of the turn's first and last record. */
  startedAt: number | null;
  endedAt: number | null;
  firstUuid: string | null;
  lastUuid: string | null;
  /** Where the turn's first record starts: byte offset and the number of lines before it. */
  offset: number;
  lines: number;
  /** Identity across files (Claude Code: the prompt record's uuid), to tell repeated history. */
  id: string | null;
  /** Claude Code: the uuid of the main-line record before the turn's first one (what a later tail hangs from). */
  before: string | null;
}

/** A piece of the assistant's side; `key` merges streamed copies of one block (message id + block). */
export interface TurnPart {
  kind: "text" | "tool" | "result" | "note";
  text: string;
  key?: string;
}

/** What a transcript says about its session beside the turns. */
export interface SessionFacts {
  session: string | null;
  project: string | null;
  gitBranch: string | null;
  model: string | null;
}

/** The turns of a transcript (or of its tail) and, for a tail, the record its main line hangs from. */
export interface ParsedTurns {
  facts: SessionFacts;
  turns: Turn[];
  /** Claude Code: the uuid of the record before the first one read (undefined: the main line starts here). */
  anchor?: string;
  /** The uuid of the last record on the main line. */
  lastUuid: string | null;
}

export function newTurn(
  prompt: string | null,
  at: { offset: number; lines: number },
  id: string | null,
  before: string | null = null,
): Turn {
  return {
    prompt,
    parts: [],
    tools: [],
    model: null,
    startedAt: null,
    endedAt: null,
    firstUuid: null,
    lastUuid: null,
    offset: at.offset,
    lines: at.lines,
    id,
    before,
  };
}

/** Marks a record of the turn: its time and uuid. */
export function touch(turn: Turn, time: number | null, uuid: string | null): void {
  if (time !== null) {
    turn.startedAt ??= time;
    turn.endedAt = Math.max(turn.endedAt ?? time, time);
  }
  if (uuid !== null) {
    turn.firstUuid ??= uuid;
    turn.lastUuid = uuid;
  }
}

export function addTool(turn: Turn, name: string): void {
  if (!turn.tools.includes(name)) turn.tools.push(name);
}

/** A text trimmed and cut to `max` characters (a tool's input or result). */
export function cut(text: string, max: number): string {
  const t = text.trim();
  return t.length <= max ? t : `${t.slice(0, Math.max(0, max - 1))}…`;
}

/** A tool's input as text: a string as it is, anything else as compact JSON. */
export function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined || value === null) return "";
  return JSON.stringify(value);
}

export function timeOf(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

type Obj = Record<string, unknown>;
/** A JSON object field, or undefined for anything else (arrays, null, scalars). */
export const obj = (v: unknown): Obj | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;

export const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
