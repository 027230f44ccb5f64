import path from "node:path";
import type { PhaseConfig } from "../config/schema.js";
import { parseDuration } from "../config/schedule.js";
import { git } from "../connectors/sources/git-cli.js";
import { UsageError } from "../errors.js";
import type { SyncRequest } from "./types.js";

export interface NormalScope {
  key: string;
  ids?: readonly string[];
  since?: string;
  entities?: readonly string[];
}

/** A scope's checkpoint key ("ids=a,b;since=…"); undefined for the job's main scope. */
export function normaliseScope(scope: SyncRequest["scope"]): NormalScope | undefined {
  if (!scope) return undefined;
  const ids = scope.ids?.map((s) => s.trim()).filter((s) => s !== "");
  const since = scope.since?.trim() || undefined;
  const entities = scope.entities?.length ? scope.entities : undefined;
  if (!ids?.length && since === undefined) return entities ? { key: "", entities } : undefined;
  const key = [ids?.length ? `ids=${[...ids].sort().join(",")}` : "", since ? `since=${since}` : ""]
    .filter(Boolean)
    .join(";");
  return {
    key,
    ...(ids?.length ? { ids } : {}),
    ...(since ? { since } : {}),
    ...(entities ? { entities } : {}),
  };
}

/** An ISO 8601 date or time: 2026-11-01, 2026-11-01T10:00, 2026-11-01T10:00:00.5Z, …+02:00. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/;

/** Where a phase's source is, as the --since check needs it. */
function describePhase(job: string, phase: PhaseConfig): string {
  return `job ${job}, phase ${phase.name}`;
}

/** Whether `value` names a commit of the repository (a sha, tag, branch, HEAD~3). */
async function isCommit(repo: string, value: string, signal?: AbortSignal): Promise<boolean> {
  try {
    await git(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${value}^{commit}`], signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks a scope's `since` against every phase it applies to, before anything is written, and returns the
 * value to use: git sources take a commit-ish of their repository; http-json sources with a `since:` block
 * take an ISO time, a number (an epoch or a numeric cursor) or a duration back (`15m`, `2h`, `7d`, sent as
 * the ISO time that long ago); module sources take their own cursor as given. A UsageError names `label`
 * (the flag or field), the value and what a valid one is.
 */
export async function checkSince(
  since: string,
  job: string,
  phases: readonly PhaseConfig[],
  baseDir: string,
  options: { label?: string; now?: number; signal?: AbortSignal } = {},
): Promise<string> {
  const label = options.label ?? "--since";
  const value = since.trim();
  const wrong = (why: string) => new UsageError(`${label} ${JSON.stringify(since)}: ${why}`);
  if (value === "") throw wrong("needs a value");
  let result = value;
  let used = false;
  for (const phase of phases) {
    const source = phase.source;
    if (source.type === "git") {
      used = true;
      const repo = path.resolve(baseDir, source.repo);
      if (!(await isCommit(repo, value, options.signal)))
        throw wrong(
          `not a commit of the git repository ${repo} (${describePhase(job, phase)}); give a commit that exists there: a sha, a tag, a branch or e.g. HEAD~3`,
        );
    } else if (source.type === "http-json") {
      if (!source.since) continue; // this phase lists everything whatever --since says
      used = true;
      const back = parseDuration(value);
      if (back !== null) result = new Date((options.now ?? Date.now()) - back).toISOString();
      else if (!(/^\d+$/.test(value) || (ISO_TIME.test(value) && Number.isFinite(Date.parse(value)))))
        throw wrong(
          `not a time for ${describePhase(job, phase)} (its API gets it as ${source.since.param}=); give an ISO time (2026-11-01 or 2026-11-01T10:00:00Z), a number (an epoch or numeric cursor) or a duration back (15m, 2h, 7d)`,
        );
    } else if (source.type === "sessions")
      continue; // its checkpoint is its own state of every file
    else used = true; // a custom source takes its own cursor form
  }
  if (!used)
    throw wrong(
      `no phase of job ${job} takes a since value: git sources take a commit, http-json sources need a since: block (param and field) in their source`,
    );
  return result;
}
