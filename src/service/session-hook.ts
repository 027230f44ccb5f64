import { existsSync } from "node:fs";
import path from "node:path";
import type { LoadedConfig } from "../config/load-config.js";
import { sessionEndedKey, type SessionEnded } from "../connectors/sources/sessions/session-ended.js";
import { globsCover, homeDir, sessionGlobs } from "../connectors/sources/sessions/session-files.js";
import { UsageError } from "../errors.js";
import type { MetaStore } from "../ledger/meta-store.js";
import { requireJob } from "./known-jobs.js";

/** What a Claude Code hook says on stdin (SessionEnd or PreCompact). */
export interface SessionHookInput {
  sessionId: string | null;
  transcriptPath: string;
  event: "SessionEnd" | "PreCompact";
}

const MODES = { SessionEnd: "end", PreCompact: "flush" } as const;

/** Claude Code's hook JSON (`{session_id, transcript_path, cwd, hook_event_name, …}`); a UsageError says what is wrong. */
export function parseHookInput(text: string): SessionHookInput {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(
      `stdin is not the hook's JSON (${text.trim() === "" ? "it is empty" : `it starts ${JSON.stringify(text.trim().slice(0, 40))}`}); register \`syncwarden sessions hook\` as a Claude Code SessionEnd or PreCompact hook`,
    );
  }
  const o = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof o.transcript_path !== "string" || o.transcript_path === "")
    throw new UsageError("the hook's JSON on stdin has no transcript_path");
  const event = o.hook_event_name ?? "SessionEnd";
  if (event !== "SessionEnd" && event !== "PreCompact")
    throw new UsageError(
      `hook_event_name ${JSON.stringify(event)}: \`syncwarden sessions hook\` is a SessionEnd or PreCompact hook`,
    );
  return {
    sessionId: typeof o.session_id === "string" ? o.session_id : null,
    transcriptPath: o.transcript_path,
    event,
  };
}

/** The transcript's absolute path ("~" is $HOME). */
export function transcriptFile(input: SessionHookInput, baseDir: string): string {
  const p = input.transcriptPath;
  return path.resolve(baseDir, p === "~" || p.startsWith("~/") ? path.join(homeDir(), p.slice(1)) : p);
}

/** The jobs with a sessions source whose paths cover the file. */
export function jobsCovering(loaded: LoadedConfig, file: string): string[] {
  return Object.entries(loaded.config.jobs)
    .filter(([, job]) =>
      job.phases.some(
        (p) => p.source.type === "sessions" && globsCover(sessionGlobs(p.source, loaded.baseDir), file),
      ),
    )
    .map(([name]) => name);
}

export interface SessionMarked {
  /** The job to run for it; null when no sessions source covers the file. */
  job: string | null;
  file: string;
  mode: SessionEnded["mode"];
}

/**
 * Marks a transcript finished for the sessions source (SessionEnd: ended; PreCompact: flush its trailing
 * turn now): its next listing emits the turns still open, unless the agent wrote to it after the mark.
 */
export async function markSessionEnded(
  meta: MetaStore,
  loaded: LoadedConfig,
  input: SessionHookInput,
  job?: string,
): Promise<SessionMarked> {
  const file = transcriptFile(input, loaded.baseDir);
  if (!existsSync(file)) throw new UsageError(`transcript_path ${file} does not exist`);
  if (job !== undefined) requireJob(loaded, job);
  const found = job ?? jobsCovering(loaded, file)[0] ?? null;
  const mode = MODES[input.event];
  const mark: SessionEnded = { at: Date.now(), mode };
  await meta.set(sessionEndedKey(file), JSON.stringify(mark));
  return { job: found, file, mode };
}
