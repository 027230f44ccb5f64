import type { EpisodeOrigin } from "../../../ledger/knowledge.js";

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
const int = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) ? v : null);
const time = (v: unknown): number | null => {
  const t = typeof v === "string" ? Date.parse(v) : Number.NaN;
  return Number.isFinite(t) ? t : null;
};

/** Where an episode of the sessions source came from, read from its document's metadata. */
export function episodeOrigin(metadata: Record<string, unknown>): EpisodeOrigin {
  return {
    session: text(metadata.session),
    firstTurn: int(metadata.first_turn),
    lastTurn: int(metadata.last_turn),
    startedAt: time(metadata.started_at),
    endedAt: time(metadata.ended_at),
    source: text(metadata.file),
    metadata: {
      format: metadata.format ?? null,
      project: metadata.project ?? null,
      git_branch: metadata.git_branch ?? null,
      model: metadata.model ?? null,
      tools: Array.isArray(metadata.tools) ? metadata.tools : [],
      first_uuid: metadata.first_uuid ?? null,
      last_uuid: metadata.last_uuid ?? null,
    },
  };
}
