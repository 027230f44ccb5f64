import type { EpisodeOrigin } from "../../ledger/knowledge.js";

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const whole = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) ? v : null);
const millis = (v: unknown): number | null => {
  if (typeof v === "number" && Number.isFinite(v)) return v;
  const t = typeof v === "string" ? Date.parse(v) : NaN;
  return Number.isNaN(t) ? null : t;
};

/** What the knowledge store keeps of a document's metadata as an episode's origin (the sessions source's fields). */
export function episodeOrigin(metadata: Record<string, unknown>): EpisodeOrigin {
  const { session, first_turn, last_turn, started_at, ended_at, file, ...rest } = metadata;
  return {
    session: text(session),
    firstTurn: whole(first_turn),
    lastTurn: whole(last_turn),
    startedAt: millis(started_at),
    endedAt: millis(ended_at),
    source: text(file),
    metadata: rest,
  };
}
