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

type Obj = Record<string, unknown>;

/** Records outside the conversation tree: metadata, never a turn's part. */
const NOT_IN_TREE = new Set(["summary", "file-history-snapshot", "queue-operation"]);
const isConversation = (r: Obj): boolean => r.type === "user" || r.type === "assistant";

/** The parent a record hangs from: its parentUuid, or across a compaction its logicalParentUuid. */
function parentOf(r: Obj): string | null {
  return str(r.parentUuid) ?? str(r.logicalParentUuid);
}

/**
 * The main line of a Claude Code transcript (or of its tail): records link by uuid/parentUuid into a
 * tree; a rewind makes a branch, a compaction a new root whose logicalParentUuid continues the line. The
 * main line is the path from the newest conversation leaf back to its root. Sidechains (subagents) and
 * metadata records (summaries, file-history snapshots, queue operations) are not part of it.
 */
function mainLine(records: readonly TranscriptRecord[]): { line: TranscriptRecord[]; anchor?: string } {
  const byUuid = new Map<string, TranscriptRecord>();
  for (const r of records) {
    const uuid = str(r.value.uuid);
    if (uuid === null || r.value.isSidechain === true || NOT_IN_TREE.has(String(r.value.type))) continue;
    if (!byUuid.has(uuid)) byUuid.set(uuid, r); // a record written twice counts once
  }
  // a conversation record is a leaf when no conversation record descends from it
  const hasChild = new Set<string>();
  const tree = [...byUuid.values()];
  for (let i = tree.length - 1; i >= 0; i--) {
    const r = tree[i]!;
    if (!isConversation(r.value)) continue;
    for (let p = parentOf(r.value); p !== null && !hasChild.has(p);) {
      hasChild.add(p);
      const parent = byUuid.get(p);
      p = parent ? parentOf(parent.value) : null;
    }
  }
  let leaf: TranscriptRecord | undefined;
  for (const r of tree) {
    if (!isConversation(r.value) || hasChild.has(String(r.value.uuid))) continue;
    const t = timeOf(r.value.timestamp) ?? 0;
    if (!leaf || t >= (timeOf(leaf.value.timestamp) ?? 0)) leaf = r;
  }
  const line: TranscriptRecord[] = [];
  const seen = new Set<string>();
  let anchor: string | undefined;
  for (let cur = leaf; cur;) {
    const uuid = String(cur.value.uuid);
    if (seen.has(uuid)) break;
    seen.add(uuid);
    line.push(cur);
    const p = parentOf(cur.value);
    if (p === null) break;
    const next = byUuid.get(p);
    if (!next) anchor = p;
    cur = next;
  }
  line.reverse();
  return anchor === undefined ? { line } : { line, anchor };
}

/** Text of a user record's content that is the user's own words (not tool results). */
function userText(content: unknown): { text: string | null; results: Obj[] } {
  if (typeof content === "string") return { text: content, results: [] };
  const results: Obj[] = [];
  const texts: string[] = [];
  if (Array.isArray(content))
    for (const b of content) {
      const block = obj(b);
      if (!block) continue;
      if (block.type === "tool_result") results.push(block);
      else if (block.type === "text" && typeof block.text === "string") texts.push(block.text);
      else if (block.type === "image") texts.push("[image]");
    }
  return { text: texts.length > 0 ? texts.join("\n") : null, results };
}

function resultText(block: Obj): string {
  const c = block.content;
  if (typeof c === "string") return c;
  if (Array.isArray(c))
    return c
      .map((x) => {
        const b = obj(x);
        return b?.type === "text" && typeof b.text === "string"
          ? b.text
          : b?.type === "image"
            ? "[image]"
            : "";
      })
      .filter((s) => s !== "")
      .join("\n");
  return asText(c);
}

/** A prompt's identity across files, kept per emitted turn in the checkpoint: 64 bits of its uuid suffice. */
function turnId(uuid: string | null): string | null {
  if (uuid === null) return null;
  const hex = uuid.replaceAll("-", "");
  return hex.length <= 16 ? hex : hex.slice(0, 8) + hex.slice(-8);
}

/** Words in a user record that belong to the turn in progress, not a new prompt. */
const NOTE = /^\s*(<local-command-(stdout|stderr)>|\[Request interrupted by user)/;

/** Adds an assistant text block, merging streamed copies of the same message (a partial text a later record completes). */
function addText(turn: Turn, messageId: string, text: string): void {
  if (text.trim() === "") return;
  for (const p of turn.parts) {
    if (p.kind !== "text" || p.key !== messageId) continue;
    if (p.text.startsWith(text)) return;
    if (text.startsWith(p.text)) {
      p.text = text;
      return;
    }
  }
  turn.parts.push({ kind: "text", text, key: messageId });
}

/**
 * The turns of a Claude Code transcript's records (all of a file, or those after a checkpoint). A turn is a
 * real user prompt and what follows until the next one; tool results come from `tool_result` blocks of user
 * records; meta and compact-summary records are skipped.
 */
export function parseClaudeCode(records: readonly TranscriptRecord[], maxToolChars: number): ParsedTurns {
  const { line, anchor } = mainLine(records);
  const facts: SessionFacts = { session: null, project: null, gitBranch: null, model: null };
  const turns: Turn[] = [];
  let turn: Turn | undefined;
  let before: string | null = anchor ?? null;
  let previous: string | null = null;
  const current = (r: TranscriptRecord): Turn => {
    if (!turn) {
      turn = newTurn(null, { offset: r.offset, lines: r.line - 1 }, null, previous);
      turns.push(turn);
    }
    return turn;
  };
  for (const r of line) {
    previous = before;
    before = str(r.value.uuid);
    const v = r.value;
    facts.session = str(v.sessionId) ?? facts.session;
    facts.project = str(v.cwd) ?? facts.project;
    facts.gitBranch = str(v.gitBranch) ?? facts.gitBranch;
    const time = timeOf(v.timestamp);
    const uuid = str(v.uuid);
    const message = obj(v.message);
    if (v.type === "user") {
      if (v.isMeta === true || v.isCompactSummary === true || v.isVisibleInTranscriptOnly === true) continue;
      const { text, results } = userText(message?.content);
      if (results.length > 0) {
        const t = current(r);
        for (const block of results) {
          const body = cut(resultText(block), maxToolChars);
          t.parts.push({ kind: "result", text: block.is_error === true ? `→ error: ${body}` : `→ ${body}` });
        }
        touch(t, time, uuid);
      } else if (text !== null && NOTE.test(text)) {
        const t = current(r);
        t.parts.push({ kind: "note", text: cut(text, maxToolChars) });
        touch(t, time, uuid);
      } else if (text !== null && text.trim() !== "") {
        turn = newTurn(text.trim(), { offset: r.offset, lines: r.line - 1 }, turnId(uuid), previous);
        turns.push(turn);
        touch(turn, time, uuid);
      }
    } else if (v.type === "assistant" && message) {
      const t = current(r);
      const id = str(message.id) ?? uuid ?? "";
      const model = str(message.model);
      if (model !== null && model !== "<synthetic>") t.model = facts.model = model;
      const content = message.content;
      if (typeof content === "string") addText(t, id, content);
      else if (Array.isArray(content))
        for (const b of content) {
          const block = obj(b);
          if (block?.type === "text" && typeof block.text === "string") addText(t, id, block.text);
          else if (block?.type === "tool_use") {
            const name = str(block.name) ?? "tool";
            const key = `tool:${str(block.id) ?? `${id}:${t.parts.length}`}`;
            if (t.parts.some((p) => p.key === key)) continue;
            addTool(t, name);
            t.parts.push({
              kind: "tool",
              key,
              text: `[tool ${name}] ${cut(asText(block.input), maxToolChars)}`,
            });
          }
        }
      touch(t, time, uuid);
    } else if (turn) touch(turn, time, uuid);
  }
  const last = line.at(-1);
  return {
    facts,
    turns,
    lastUuid: last ? String(last.value.uuid) : null,
    ...(anchor === undefined ? {} : { anchor }),
  };
}
