import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { GitSourceConfig } from "../../config/sources-schema.js";
import { git } from "./git-cli.js";

/** Why a git source cannot be read, and which of its keys is wrong. */
export interface GitSourceProblem {
  key: "repo" | "branch";
  message: string;
}

/** Checks that a git source's folder exists, is a git repository and has the branch; undefined when it does. */
export async function gitSourceProblem(
  source: Pick<GitSourceConfig, "repo" | "branch">,
  baseDir: string,
  signal?: AbortSignal,
): Promise<GitSourceProblem | undefined> {
  const repo = path.resolve(baseDir, source.repo);
  if (!existsSync(repo) || !statSync(repo).isDirectory())
    return { key: "repo", message: `repo "${source.repo}": the folder ${repo} does not exist` };
  // one git call when all is well (the check runs at the start of every run); the diagnosis only on failure
  const branch = `${source.branch}^{commit}`;
  const ok = await git(repo, ["rev-parse", "--verify", "--quiet", "--end-of-options", branch], signal).then(
    () => true,
    () => false,
  );
  if (ok) return undefined;
  signal?.throwIfAborted();
  const isRepo = await git(repo, ["rev-parse", "--git-dir"], signal).then(
    () => true,
    () => false,
  );
  if (!isRepo) return { key: "repo", message: `repo "${source.repo}": ${repo} is not a git repository` };
  return {
    key: "branch",
    message: `branch "${source.branch}" does not exist in the git repository ${repo}`,
  };
}
