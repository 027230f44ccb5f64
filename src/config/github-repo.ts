/** `owner/name`, or a repository's https URL on github.com or a GitHub Enterprise Server host. */
export const GITHUB_REPO = /^(?:https?:\/\/[^/\s]+\/)?[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+?(?:\.git)?\/?$/;

/** The owner and name of a repository written as `owner/name` or `https://HOST/owner/name[.git]`. */
export function parseGithubRepo(repo: string): { owner: string; name: string; host?: string } {
  const m = /^(?:https?:\/\/([^/\s]+)\/)?([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(
    repo.trim(),
  );
  if (!m)
    throw new Error(`repository ${JSON.stringify(repo)} must be owner/name or https://github.com/owner/name`);
  return { owner: m[2]!, name: m[3]!, ...(m[1] ? { host: m[1].toLowerCase() } : {}) };
}

/** The API of the host a repository URL names: api.github.com for github.com, else GitHub Enterprise Server's /api/v3. */
export function apiBaseFor(repo: string): string {
  const host = parseGithubRepo(repo).host;
  return host === undefined || host === "github.com" || host === "www.github.com"
    ? "https://api.github.com"
    : `https://${host}/api/v3`;
}
