import type { SessionFacts, Turn } from "./turns.js";

/** A turn as readable text: the prompt under "## User", the assistant's text and tool lines under "## Assistant". */
export function renderTurn(turn: Turn): string {
  const user = turn.prompt === null ? "" : `## User\n${turn.prompt}`;
  const answer = turn.parts.length === 0 ? "" : `## Assistant\n${turn.parts.map((p) => p.text).join("\n")}`;
  return [user, answer].filter((s) => s !== "").join("\n\n");
}

/** An episode's text: a heading naming the session and its turns, then each turn. */
export function renderEpisode(
  facts: SessionFacts & { session: string },
  first: number,
  last: number,
  texts: readonly string[],
): string {
  const head = `# Session ${facts.session}, turns ${first}-${last}${facts.project ? ` (${facts.project})` : ""}`;
  return [head, ...texts].join("\n\n");
}
