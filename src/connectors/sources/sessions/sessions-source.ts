import { stat } from "node:fs/promises";
import type { SessionsSourceConfig } from "../../../config/sources-schema.js";
import { parseDuration } from "../../../config/schedule.js";
import type { ClaimedItem, PlannedItem } from "../../../ledger/types.js";
import type { ConnectorContext, Fetched, Source, SourceListing } from "../../types.js";
import { readSession } from "./read-session.js";
import { endedHolds, sessionEndedKey } from "./session-ended.js";
import { displayPath, findSessionFiles, sessionGlobs } from "./session-files.js";
import { loadState, saveState, type FileState, type SessionsState } from "./session-state.js";

/** Malformed lines named in a file's warning (the rest are counted). */
const NAMED_LINES = 5;

/**
 * Agent transcripts (Claude Code, Codex CLI) as episodes: item key `<session>:<first>-<last>` (turn
 * indices), version = a hash of the episode's text. A delta source: its checkpoint names a state blob
 * (`sessions:<sha>`) holding, per file, where the turns not yet in an episode start; a listing reads only
 * files whose size or mtime changed (or whose open turns are now due) and writes the next state as a new
 * blob, which the checkpoint names once the plan closes.
 *
 * Repeated history (`claude --resume` starting a new file that repeats old records, same uuids): the state
 * keeps, per file, the identity of each turn its episodes hold (its prompt's uuid); a turn whose identity
 * another file's episode already holds belongs to no episode of this file, so nothing is extracted twice.
 * Files are read oldest first, so the original keeps its turns. A file that disappears (Claude Code deletes
 * old transcripts) leaves the state, but its episodes stay: a memory outlives its transcript.
 */
export class SessionsSource implements Source {
  readonly type = "sessions";
  private readonly idleMs: number;

  constructor(
    private readonly o: SessionsSourceConfig,
    private readonly baseDir: string,
  ) {
    this.idleMs = parseDuration(o.idle_after) ?? 600_000;
  }

  /** Known once listed: the state blob the listing writes. */
  target(): Promise<null> {
    return Promise.resolve(null);
  }

  /** `--ids` names sessions: an episode's session id is its key before the turn range. */
  scopeId(key: string): string {
    const colon = key.lastIndexOf(":");
    return colon === -1 ? key : key.slice(0, colon);
  }

  list(from: string | null, _target: string | null, ctx: ConnectorContext): Promise<SourceListing> {
    let target: string | null = from;
    return Promise.resolve({
      mode: "delta",
      items: this.episodes(from, ctx, (t) => (target = t)),
      finalTarget: () => target,
    });
  }

  /** The episode's text and metadata were captured when the plan was listed. */
  fetch(item: ClaimedItem): Promise<Fetched> {
    const meta = item.meta ?? {};
    if (typeof meta.content !== "string") throw new Error(`episode ${item.key} was listed without its text`);
    return Promise.resolve({
      content: meta.content,
      metadata: (meta.metadata ?? {}) as Record<string, unknown>,
    });
  }

  private async *episodes(
    from: string | null,
    ctx: ConnectorContext,
    done: (target: string) => void,
  ): AsyncIterable<PlannedItem> {
    const { state: prev, missing } = await loadState(ctx.cache, ctx.job, ctx.phase, from);
    if (missing)
      ctx.warn?.(
        `the state ${from} the checkpoint names is gone: every transcript is read again (unchanged episodes are skipped)`,
      );
    const files: { file: string; size: number; mtimeMs: number }[] = [];
    const globs = sessionGlobs(this.o, this.baseDir);
    for (const file of await findSessionFiles(globs, this.o.include, this.o.exclude, ctx.signal)) {
      try {
        const s = await stat(file);
        files.push({ file, size: s.size, mtimeMs: s.mtimeMs });
      } catch {
        // gone between the walk and now
      }
    }
    if (files.length === 0)
      ctx.warn?.(`no transcript matches ${globs.map((g) => (g.single ? g.base : `${g.base}/…`)).join(", ")}`);
    // oldest first: a resumed session's file repeats history its original wrote earlier
    files.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.file < b.file ? -1 : 1));
    const emitted = new Map<string, string>();
    const remember = (file: string, s: FileState): void => {
      for (const id of s.ids) if (id !== "" && !emitted.has(id)) emitted.set(id, file);
    };
    for (const [file, s] of Object.entries(prev?.files ?? {})) remember(file, s);
    const next: SessionsState = { version: 1, files: {} };
    const now = Date.now();
    for (const f of files) {
      if (ctx.signal.aborted) return;
      const before = prev?.files[f.file];
      const unchanged = before !== undefined && before.size === f.size && before.mtimeMs === f.mtimeMs;
      if (unchanged && !before.open) {
        next.files[f.file] = before;
        continue;
      }
      const finished =
        now - f.mtimeMs >= this.idleMs || endedHolds(await ctx.cache.get(sessionEndedKey(f.file)), f.mtimeMs);
      if (unchanged && !finished) {
        next.files[f.file] = before;
        continue;
      }
      const display = displayPath(f.file, this.baseDir);
      const out = await readSession(f.file, f, before, {
        format: this.o.format,
        limits: { turns: this.o.episode_turns, chars: this.o.episode_chars },
        maxToolChars: this.o.max_tool_chars,
        finished,
        display,
        emitted,
      });
      if (out.malformed.length > 0) {
        const named = out.malformed.slice(0, NAMED_LINES).map((l) => `${display}:${l}`);
        const more = out.malformed.length - named.length;
        ctx.warn?.(
          `${out.malformed.length} malformed line${out.malformed.length === 1 ? "" : "s"} skipped: ${named.join(", ")}${more > 0 ? ` and ${more} more` : ""}`,
        );
      }
      if (out.state) {
        next.files[f.file] = out.state;
        remember(f.file, out.state);
      }
      yield* out.items;
    }
    done(await saveState(ctx.cache, ctx.job, ctx.phase, next, from));
  }
}
