import { ConfigError } from "../errors.js";
import { excludeGlobs, type Codebase, type Processing } from "./codebases.js";
import { apiBaseFor } from "./github-repo.js";
import { languageGlobs, languageNamed } from "./languages.js";
import { jobSchema, type JobConfig } from "./schema.js";

/**
 * Each codebase as a job of one phase, `files`, with a github source: its documents go to a table
 * named after the codebase. The token is $GITHUB_TOKEN when it is set (anonymous otherwise), the
 * API is $GITHUB_API_URL when set, else the host of repo_url.
 */
export function codebaseJobs(
  codebases: readonly Codebase[],
  processing: Processing,
  env: NodeJS.ProcessEnv,
): Record<string, JobConfig> {
  const include = processing.supported_languages.flatMap((l) => languageGlobs(languageNamed(l)!));
  const exclude = processing.exclude_patterns.flatMap(excludeGlobs);
  const jobs: Record<string, JobConfig> = {};
  for (const [i, c] of codebases.entries()) {
    const parsed = jobSchema.safeParse({
      description: `GitHub repository ${c.repo_url}`,
      phases: [
        {
          name: "files",
          source: {
            type: "github",
            repo: c.repo_url,
            ...(c.branch === undefined ? {} : { branch: c.branch }),
            ...(env.GITHUB_TOKEN ? { token: "${GITHUB_TOKEN}" } : {}),
            base_url: env.GITHUB_API_URL || apiBaseFor(c.repo_url),
            include: include.length > 0 ? include : ["**"],
            exclude,
          },
          sink: { type: "sqlite-docs", table: c.name },
        },
      ],
    });
    if (!parsed.success)
      throw new ConfigError(
        `codebases[${i}] (${c.name}): ${parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}${
          env.GITHUB_API_URL ? ` (GITHUB_API_URL=${env.GITHUB_API_URL})` : ""
        }`,
      );
    jobs[c.name] = parsed.data;
  }
  return jobs;
}
