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
