import type { TranscriptRecord } from "./transcript-lines.js";

export type SessionFormat = "claude-code" | "codex";

/**
 * A transcript's format from its first records: Codex lines are `{timestamp, type, payload}` (the first a
 * session_meta); Claude Code records carry a sessionId, a uuid or one of its metadata types. Undefined when
 * the records say neither.
 */
export function detectFormat(records: readonly TranscriptRecord[]): SessionFormat | undefined {
  for (const { value } of records.slice(0, 20)) {
    if (
      typeof value.payload === "object" &&
      ["session_meta", "response_item", "turn_context"].includes(String(value.type))
    )
      return "codex";
    if (
      typeof value.sessionId === "string" ||
      typeof value.uuid === "string" ||
      value.type === "summary" ||
      value.type === "file-history-snapshot"
    )
      return "claude-code";
  }
  return undefined;
}
