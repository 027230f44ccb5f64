import { existsSync } from "node:fs";
import { keyPosition } from "../config/key-position.js";
import type { LoadedConfig } from "../config/load-config.js";
import type { PhaseConfig } from "../config/schema.js";
import { gitSourceProblem } from "../connectors/sources/git-check.js";
import { ConfigError } from "../errors.js";
import { ledgerFile } from "../ledger/open-ledger.js";
import { requireJob, requirePhases } from "./known-jobs.js";

/**
 * What keeps the git sources of a job's phases (all, or those given) from being read: a missing folder,
 * a folder that is no repository, a missing branch; each at the file:line of the source's key.
 */
async function sourceProblems(
  loaded: LoadedConfig,
  job: string,
  phases?: readonly PhaseConfig[],
  signal?: AbortSignal,
): Promise<string[]> {
  const all = requireJob(loaded, job).phases;
  const problems: string[] = [];
  for (const [i, phase] of all.entries()) {
    if (phases && !phases.some((p) => p.name === phase.name)) continue;
    if (phase.source.type !== "git") continue;
    const problem = await gitSourceProblem(phase.source, loaded.baseDir, signal);
    if (!problem) continue;
    const keyPath = ["jobs", job, "phases", i, "source", problem.key] as const;
    problems.push(
      `${keyPosition(loaded.file, keyPath)}: jobs.${job}.phases[${i}].source.${problem.key}: ${problem.message}`,
    );
  }
  return problems;
}

function throwProblems(problems: readonly string[]): void {
  if (problems.length === 1) throw new ConfigError(`cannot read the source: ${problems[0]}`);
  if (problems.length > 1) throw new ConfigError(`cannot read the sources:\n  ${problems.join("\n  ")}`);
}

/** Throws a ConfigError listing every source of the job's phases that cannot be read. */
export async function checkSources(
  loaded: LoadedConfig,
  job: string,
  phases?: readonly PhaseConfig[],
  signal?: AbortSignal,
): Promise<void> {
  throwProblems(await sourceProblems(loaded, job, phases, signal));
}

/**
 * The phases named must exist in every job (a UsageError otherwise). Before the state exists, a source that cannot be read is a configuration error and nothing is created.
 * Once it exists, the run itself checks (and records the failure for history and doctor).
 */
export async function checkSourcesBeforeState(
  loaded: LoadedConfig,
  jobs: readonly string[],
  phaseNames?: readonly string[],
): Promise<void> {
  for (const job of jobs) requirePhases(loaded, job, phaseNames ?? []);
  if (existsSync(ledgerFile(loaded.stateDir))) return;
  const problems: string[] = [];
  for (const job of jobs) {
    const phases = phaseNames?.length
      ? requireJob(loaded, job).phases.filter((p) => phaseNames.includes(p.name))
      : undefined;
    problems.push(...(await sourceProblems(loaded, job, phases)));
  }
  throwProblems(problems);
}
