import { createHash, type Hash } from "node:crypto";
import path from "node:path";
import type { PlannedItem } from "../../../ledger/types.js";
import { parseClaudeCode } from "./claude-code-format.js";
import { parseCodex } from "./codex-format.js";
import { detectFormat, type SessionFormat } from "./detect-format.js";
import { cutEpisodes, type EpisodeLimits } from "./episodes.js";
import { renderEpisode, renderTurn } from "./render-episode.js";
import type { FileState } from "./session-state.js";
import { digestSoFar, prefixHash, readTranscriptLines, type TranscriptLines } from "./transcript-lines.js";
import type { ParsedTurns, SessionFacts, Turn } from "./turns.js";

export interface ReadOptions {
  format: "auto" | SessionFormat;
  limits: EpisodeLimits;
  maxToolChars: number;
  /** The file is finished: its open turns are emitted too. */
  finished: boolean;
  /** How the file is named in episodes. */
  display: string;
  /** Turn identities already in an episode of another file, with that file. */
  emitted: ReadonlyMap<string, string>;
}

export interface ReadOutcome {
  /** Undefined: not a transcript of a known format (yet). */
  state: FileState | undefined;
  items: PlannedItem[];
  malformed: number[];
}

const NO_FACTS: SessionFacts = { session: null, project: null, gitBranch: null, model: null };

const sha = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 32);

function parse(
  format: SessionFormat,
  records: Parameters<typeof parseClaudeCode>[0],
  max: number,
  known: SessionFacts,
): ParsedTurns {
  return format === "codex" ? parseCodex(records, max, known) : parseClaudeCode(records, max);
}

/**
 * Reads what is new in one transcript since its state: only the bytes after the state's offset when the
 * bytes before it are unchanged (same hash) and, for Claude Code, the new records hang from where the
 * emitted ones ended; otherwise the whole file from turn 0 (rewritten, rewound, shrunk), listing as deletes
 * the episodes that no longer exist. Returns the episodes that closed and the file's next state.
 */
export async function readSession(
  file: string,
  stat: { size: number; mtimeMs: number },
  prev: FileState | undefined,
  o: ReadOptions,
): Promise<ReadOutcome> {
  if (prev && prev.offset > 0 && stat.size >= prev.size) {
    const hash = await prefixHash(file, prev.offset);
    if (digestSoFar(hash) === prev.prefix) {
      const range = { from: prev.offset, to: stat.size, firstLine: prev.line };
      const lines = await readTranscriptLines(file, range, o.finished);
      const parsed = parse(prev.format, lines.records, o.maxToolChars, prev.facts);
      if (
        prev.format === "codex" ||
        parsed.turns.length === 0 ||
        parsed.anchor === (prev.anchor ?? undefined)
      )
        return settle(file, stat, prev, parsed, { ...lines, from: prev.offset, hash }, o, prev.format, true);
    }
  }
  const lines = await readTranscriptLines(file, { from: 0, to: stat.size, firstLine: 0 }, o.finished);
  const format = o.format === "auto" ? (prev?.format ?? detectFormat(lines.records)) : o.format;
  if (format === undefined) return { state: undefined, items: [], malformed: lines.malformed };
  const parsed = parse(format, lines.records, o.maxToolChars, NO_FACTS);
  const read = { ...lines, from: 0, hash: createHash("sha256") };
  return settle(file, stat, prev, parsed, read, o, format, false);
}

/** What was read: lines of bytes from `from` on, and a hash that has read the bytes before `from`. */
type Read = TranscriptLines & { from: number; hash: Hash };

function settle(
  file: string,
  stat: { size: number; mtimeMs: number },
  prev: FileState | undefined,
  parsed: ParsedTurns,
  lines: Read,
  o: ReadOptions,
  format: SessionFormat,
  tail: boolean,
): ReadOutcome {
  const stem = path.basename(file).replace(/\.jsonl$/, "");
  const session = tail ? prev!.session : format === "codex" ? (parsed.facts.session ?? stem) : stem;
  const known = tail ? prev!.facts : NO_FACTS;
  const facts = {
    project: parsed.facts.project ?? known.project,
    gitBranch: parsed.facts.gitBranch ?? known.gitBranch,
    model: parsed.facts.model ?? known.model,
    session,
  };
  const base = tail ? prev!.next : 0;
  const { turns } = parsed;
  const texts = turns.map(renderTurn);
  const repeated = (i: number): boolean => {
    const id = turns[i]!.id;
    const owner = id === null ? undefined : o.emitted.get(id);
    return owner !== undefined && owner !== file;
  };
  const cut = cutEpisodes(
    texts.map((t) => t.length),
    repeated,
    o.finished,
    o.limits,
  );
  const items: PlannedItem[] = [];
  const ids = tail ? [...prev!.ids] : [];
  const episodes = tail ? [...prev!.episodes] : [];
  const inEpisode = new Set<number>();
  for (const { first, last } of cut.episodes) {
    const slice = turns.slice(first, last + 1);
    for (let i = first; i <= last; i++) inEpisode.add(i);
    const a = base + first;
    const b = base + last;
    const content = renderEpisode(facts, a, b, texts.slice(first, last + 1));
    items.push({
      key: `${session}:${a}-${b}`,
      version: sha(content),
      op: "upsert",
      meta: { content, metadata: episodeMetadata(format, facts, o.display, a, b, slice) },
    });
    episodes.push(a, b);
  }
  for (let i = 0; i < cut.pending; i++) ids.push(inEpisode.has(i) ? (turns[i]!.id ?? "") : "");
  if (!tail && prev) {
    const now = new Set(items.map((it) => it.key));
    for (let i = 0; i + 1 < prev.episodes.length; i += 2) {
      const key = `${prev.session}:${prev.episodes[i]}-${prev.episodes[i + 1]}`;
      if (!now.has(key)) items.push({ key, version: null, op: "delete" });
    }
  }
  const next = turns[cut.pending];
  const offset = next ? next.offset : lines.end;
  const state: FileState = {
    format,
    session,
    size: stat.size,
    mtimeMs: stat.mtimeMs,
    offset,
    line: next ? next.lines : lines.endLine,
    prefix: digestSoFar(lines.hash.update(lines.bytes.subarray(0, offset - lines.from))),
    anchor:
      format === "codex" ? null : next ? next.before : (parsed.lastUuid ?? (tail ? prev!.anchor : null)),
    next: base + cut.pending,
    open: next !== undefined || lines.end < stat.size,
    facts,
    ids,
    episodes,
  };
  return { state, items, malformed: lines.malformed };
}

/** What an episode's document carries beside its text (enough for an EpisodeOrigin: connectors/sinks/episode-origin.ts). */
function episodeMetadata(
  format: SessionFormat,
  facts: SessionFacts & { session: string },
  file: string,
  first: number,
  last: number,
  turns: readonly Turn[],
): Record<string, unknown> {
  const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
  const starts = turns.map((t) => t.startedAt).filter((t): t is number => t !== null);
  const ends = turns.map((t) => t.endedAt).filter((t): t is number => t !== null);
  return {
    format,
    session: facts.session,
    file,
    project: facts.project,
    git_branch: facts.gitBranch,
    model: turns.findLast((t) => t.model !== null)?.model ?? facts.model,
    tools: [...new Set(turns.flatMap((t) => t.tools))],
    first_turn: first,
    last_turn: last,
    started_at: iso(starts.length > 0 ? Math.min(...starts) : null),
    ended_at: iso(ends.length > 0 ? Math.max(...ends) : null),
    first_uuid: turns[0]?.firstUuid ?? null,
    last_uuid: turns.at(-1)?.lastUuid ?? null,
  };
}
