import type { TranscriptRecord } from "./transcript-lines.js";
import {
  addTool,
  asText,
  cut,
  newTurn,
  obj,
  str,
  timeOf,
  touch,
  type ParsedTurns,
  type SessionFacts,
  type Turn,
} from "./turns.js";

/** User messages Codex writes itself at the start of every session (instructions, environment). */
const BOILERPLATE =
  /^\s*(<user_instructions>|<environment_context>|<user_shell_command>|# AGENTS\.md instructions)/;

function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b) => {
      const block = obj(b);
      if (!block) return "";
      if (typeof block.text === "string") return block.text;
      return block.type === "input_image" ? "[image]" : "";
    })
    .filter((s) => s !== "")
    .join("\n");
}

/** A function call's output: Codex writes a string, often JSON with the command's `output` inside. */
function outputText(output: unknown): string {
  const raw = asText(output);
  if (raw.startsWith("{")) {
    try {
      const parsed = obj(JSON.parse(raw));
      if (typeof parsed?.output === "string") return parsed.output;
    } catch {
      // not JSON after all: the text as written
    }
  }
  return raw;
}

/** A call's arguments: a JSON string whose `command` (an argv) reads best joined. */
function callInput(args: unknown): string {
  const raw = asText(args);
  try {
    const parsed = obj(JSON.parse(raw));
    const command = parsed?.command;
    if (Array.isArray(command)) return command.map(String).join(" ");
  } catch {
    // the arguments as written
  }
  return raw;
}

/**
 * The turns of a Codex CLI rollout (`{timestamp, type, payload}` lines): the session's id, cwd and git branch
 * from `session_meta`, the model from `turn_context`, messages, function calls and their outputs (each
 * output follows its call_id's call) from `response_item`s; reasoning and event messages are skipped. `facts` carries what an earlier
 * read of the same file found (the tail of a file has no session_meta).
 */
export function parseCodex(
  records: readonly TranscriptRecord[],
  maxToolChars: number,
  known: SessionFacts,
): ParsedTurns {
  const facts: SessionFacts = { ...known };
  const turns: Turn[] = [];
  let turn: Turn | undefined;
  const current = (r: TranscriptRecord): Turn => {
    if (!turn) {
      turn = newTurn(null, { offset: r.offset, lines: r.line - 1 }, null);
      turns.push(turn);
    }
    return turn;
  };
  for (const r of records) {
    const payload = obj(r.value.payload);
    if (!payload) continue;
    const time = timeOf(r.value.timestamp);
    if (r.value.type === "session_meta") {
      facts.session = str(payload.id) ?? facts.session;
      facts.project = str(payload.cwd) ?? facts.project;
      facts.gitBranch = str(obj(payload.git)?.branch) ?? facts.gitBranch;
      continue;
    }
    if (r.value.type === "turn_context") {
      facts.model = str(payload.model) ?? facts.model;
      facts.project = str(payload.cwd) ?? facts.project;
      continue;
    }
    if (r.value.type !== "response_item") continue;
    const kind = payload.type;
    if (kind === "message") {
      const text = messageText(payload.content).trim();
      if (payload.role === "user") {
        if (text === "" || BOILERPLATE.test(text)) continue;
        turn = newTurn(text, { offset: r.offset, lines: r.line - 1 }, null);
        turns.push(turn);
        touch(turn, time, null);
      } else if (payload.role === "assistant" && text !== "") {
        const t = current(r);
        t.parts.push({ kind: "text", text });
        t.model = facts.model;
        touch(t, time, null);
      }
    } else if (kind === "function_call" || kind === "custom_tool_call" || kind === "local_shell_call") {
      const t = current(r);
      const name = str(payload.name) ?? (kind === "local_shell_call" ? "shell" : "tool");
      const input =
        kind === "custom_tool_call"
          ? asText(payload.input)
          : kind === "local_shell_call"
            ? callInput(JSON.stringify(obj(payload.action) ?? {}))
            : callInput(payload.arguments);
      addTool(t, name);
      t.parts.push({ kind: "tool", text: `[tool ${name}] ${cut(input, maxToolChars)}` });
      touch(t, time, null);
    } else if (kind === "function_call_output" || kind === "custom_tool_call_output") {
      const t = current(r);
      t.parts.push({ kind: "result", text: `→ ${cut(outputText(payload.output), maxToolChars)}` });
      touch(t, time, null);
    }
  }
  return { facts, turns, lastUuid: null };
}
