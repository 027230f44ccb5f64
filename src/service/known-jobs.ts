import type { LoadedConfig } from "../config/load-config.js";
import type { JobConfig } from "../config/schema.js";
import { UsageError } from "../errors.js";

/** A job's configuration; a UsageError naming the configuration's jobs when there is no such job. */
export function requireJob(loaded: LoadedConfig, name: string): JobConfig {
  const job = Object.hasOwn(loaded.config.jobs, name) ? loaded.config.jobs[name] : undefined;
  if (!job) {
    const names = Object.keys(loaded.config.jobs);
    throw new UsageError(
      `unknown job "${name}"; ${loaded.file} defines: ${names.length > 0 ? names.join(", ") : "(no jobs)"}`,
    );
  }
  return job;
}

/** A job's configuration, once every phase named exists in it; a UsageError naming its phases otherwise. */
export function requirePhases(loaded: LoadedConfig, name: string, phases: readonly string[]): JobConfig {
  const job = requireJob(loaded, name);
  const unknown = phases.filter((p) => !job.phases.some((ph) => ph.name === p));
  if (unknown.length > 0)
    throw new UsageError(
      `job "${name}" has no phase ${unknown.join(", ")}; its phases: ${job.phases.map((p) => p.name).join(", ")}`,
    );
  return job;
}
