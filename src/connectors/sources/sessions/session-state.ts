import { createHash } from "node:crypto";
import type { KeyValueStore } from "../../types.js";
import type { SessionFormat } from "./detect-format.js";
import type { SessionFacts } from "./turns.js";

/** What the checkpoint knows of one transcript file. */
export interface FileState {
  format: SessionFormat;
  /** The session id that names its episodes. */
  session: string;
  /** The file as last read (unchanged size and mtime: not read again). */
  size: number;
  mtimeMs: number;
  /** Where the turns not yet in an episode start: byte offset, lines before it, hash of the bytes before it. */
  offset: number;
  line: number;
  prefix: string;
  /** Claude Code: the uuid the records after `offset` hang from (another one: the history was rewritten). */
  anchor: string | null;
  /** The index of the turn at `offset`. */
  next: number;
  /** Turns wait after `offset` (for a later prompt, for idle_after, or for the hook). */
  open: boolean;
  facts: SessionFacts;
  /** Per turn before `next`: its identity when this file's episode holds it ("" otherwise). */
  ids: string[];
  /** The episodes emitted, as flat [first, last] pairs of turn indices. */
  episodes: number[];
}

export interface SessionsState {
  version: 1;
  files: Record<string, FileState>;
}

/** How many state blobs a phase keeps besides the one its checkpoint names (the rest are deleted). */
const KEEP = 8;
const PREFIX = "sessions:";

const blobKey = (job: string, phase: string, sha: string): string => `sessions-state:${job}:${phase}:${sha}`;
const indexKey = (job: string, phase: string): string => `sessions-states:${job}:${phase}`;

/** The state a checkpoint (`sessions:<sha>`) names; undefined for none, or for one whose blob is gone. */
export async function loadState(
  cache: KeyValueStore,
  job: string,
  phase: string,
  from: string | null,
): Promise<{ state: SessionsState | undefined; missing: boolean }> {
  if (from === null || !from.startsWith(PREFIX)) return { state: undefined, missing: false };
  const text = await cache.get(blobKey(job, phase, from.slice(PREFIX.length)));
  if (text === undefined) return { state: undefined, missing: true };
  return { state: JSON.parse(text) as SessionsState, missing: false };
}

/**
 * Writes a state as a new content-addressed blob (never over the one the checkpoint names: the checkpoint
 * moves to the new one only when its plan closes) and returns its checkpoint value. Keeps the newest
 * blobs and the one `from` names; older ones are deleted when the store can delete.
 */
export async function saveState(
  cache: KeyValueStore,
  job: string,
  phase: string,
  state: SessionsState,
  from: string | null,
): Promise<string> {
  const text = JSON.stringify(state);
  const sha = createHash("sha256").update(text).digest("hex").slice(0, 40);
  if ((await cache.get(blobKey(job, phase, sha))) === undefined)
    await cache.set(blobKey(job, phase, sha), text);
  const listed = JSON.parse((await cache.get(indexKey(job, phase))) ?? "[]") as string[];
  const order = [...listed.filter((s) => s !== sha), sha];
  const keep = new Set(order.slice(-KEEP));
  if (from?.startsWith(PREFIX)) keep.add(from.slice(PREFIX.length));
  if (cache.delete) for (const old of order) if (!keep.has(old)) await cache.delete(blobKey(job, phase, old));
  await cache.set(
    indexKey(job, phase),
    JSON.stringify(cache.delete ? order.filter((s) => keep.has(s)) : order.slice(-KEEP * 4)),
  );
  return `${PREFIX}${sha}`;
}
