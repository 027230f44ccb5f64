/**
 * JSON bodies of the fake GitHub server, shaped like GitHub's (test/fake-github.test.ts validates them
 * against the schemas extracted from GitHub's OpenAPI description).
 */
import { createHash } from "node:crypto";
import type { CommitInfo, Comparison, DiffFile, TreeEntry } from "./fake-github-git.js";
import type { LimitState } from "./fake-github-limits.js";

/** Where a repository's URLs point. */
export interface RepoContext {
  /** API root, e.g. http://127.0.0.1:PORT/api/v3 */
  api: string;
  /** Web root, e.g. http://127.0.0.1:PORT */
  html: string;
  owner: string;
  name: string;
}

export const DOCS = "https://docs.github.com/rest";
export const SECONDARY_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.";

const EPOCH = "2020-01-01T00:00:00Z";

/** A stable positive id for a name. */
export function idOf(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0) & 0x7fffffff;
}

function nodeId(kind: string, text: string): string {
  return Buffer.from(`${kind}:${text}`, "utf8").toString("base64url");
}

export function errorBody(status: number, message: string, docs = DOCS): Record<string, string> {
  return { message, documentation_url: docs, status: String(status) };
}

export function userBody(api: string, html: string, login: string): Record<string, unknown> {
  const url = `${api}/users/${login}`;
  return {
    login,
    id: idOf(`user:${login}`),
    node_id: nodeId("User", login),
    avatar_url: `${html}/avatars/${login}`,
    gravatar_id: "",
    url,
    html_url: `${html}/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: "User",
    user_view_type: "public",
    site_admin: false,
  };
}

export function repoBody(c: RepoContext, defaultBranch: string, pushedAt: string): Record<string, unknown> {
  const full = `${c.owner}/${c.name}`;
  const url = `${c.api}/repos/${full}`;
  const html = `${c.html}/${full}`;
  const host = new URL(c.html).host;
  return {
    id: idOf(`repo:${full}`),
    node_id: nodeId("Repository", full),
    name: c.name,
    full_name: full,
    owner: userBody(c.api, c.html, c.owner),
    private: false,
    html_url: html,
    description: null,
    fork: false,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    git_url: `git://${host}/${full}.git`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    ssh_url: `git@${host}:${full}.git`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
    clone_url: `${html}.git`,
    mirror_url: null,
    hooks_url: `${url}/hooks`,
    svn_url: html,
    homepage: null,
    language: null,
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    size: 0,
    default_branch: defaultBranch,
    open_issues_count: 0,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: "public",
    pushed_at: pushedAt,
    created_at: EPOCH,
    updated_at: pushedAt,
    permissions: { admin: false, maintain: false, push: false, triage: false, pull: true },
    allow_forking: true,
    web_commit_signoff_required: false,
    subscribers_count: 0,
    network_count: 0,
    license: null,
    forks: 0,
    open_issues: 0,
    watchers: 0,
  };
}

export function commitBody(c: RepoContext, info: CommitInfo): Record<string, unknown> {
  const repo = `${c.api}/repos/${c.owner}/${c.name}`;
  const html = `${c.html}/${c.owner}/${c.name}`;
  return {
    url: `${repo}/commits/${info.sha}`,
    sha: info.sha,
    node_id: nodeId("Commit", info.sha),
    html_url: `${html}/commit/${info.sha}`,
    comments_url: `${repo}/commits/${info.sha}/comments`,
    commit: {
      url: `${repo}/git/commits/${info.sha}`,
      author: info.author,
      committer: info.committer,
      message: info.message,
      comment_count: 0,
      tree: { sha: info.tree, url: `${repo}/git/trees/${info.tree}` },
      verification: {
        verified: false,
        reason: "unsigned",
        payload: null,
        signature: null,
        verified_at: null,
      },
    },
    author: null,
    committer: null,
    parents: info.parents.map((sha) => ({
      sha,
      url: `${repo}/commits/${sha}`,
      html_url: `${html}/commit/${sha}`,
    })),
  };
}

export function branchBody(c: RepoContext, branch: string, head: CommitInfo): Record<string, unknown> {
  const url = `${c.api}/repos/${c.owner}/${c.name}/branches/${encodeURIComponent(branch)}`;
  return {
    name: branch,
    commit: commitBody(c, head),
    _links: { self: url, html: `${c.html}/${c.owner}/${c.name}/tree/${encodeURIComponent(branch)}` },
    protected: false,
    protection: {
      enabled: false,
      required_status_checks: { enforcement_level: "off", contexts: [], checks: [] },
    },
    protection_url: `${url}/protection`,
  };
}

export function treeBody(
  c: RepoContext,
  sha: string,
  entries: TreeEntry[],
  truncateAt: number,
): Record<string, unknown> {
  const repo = `${c.api}/repos/${c.owner}/${c.name}`;
  const truncated = entries.length > truncateAt;
  const shown = truncated ? entries.slice(0, truncateAt) : entries;
  return {
    sha,
    url: `${repo}/git/trees/${sha}`,
    tree: shown.map((e) => {
      const out: Record<string, unknown> = { path: e.path, mode: e.mode, type: e.type, sha: e.sha };
      if (e.type === "blob") {
        out.size = e.size;
        out.url = `${repo}/git/blobs/${e.sha}`;
      } else if (e.type === "tree") out.url = `${repo}/git/trees/${e.sha}`;
      return out;
    }),
    truncated,
  };
}

export function blobBody(c: RepoContext, sha: string, content: Buffer): Record<string, unknown> {
  // GitHub wraps the base64 at 60 characters, with a newline after each line.
  const b64 = content.toString("base64");
  let wrapped = "";
  for (let i = 0; i < b64.length; i += 60) wrapped += `${b64.slice(i, i + 60)}\n`;
  return {
    sha,
    node_id: nodeId("Blob", sha),
    size: content.length,
    url: `${c.api}/repos/${c.owner}/${c.name}/git/blobs/${sha}`,
    content: wrapped,
    encoding: "base64",
  };
}

function diffEntry(c: RepoContext, head: string, f: DiffFile): Record<string, unknown> {
  const repo = `${c.api}/repos/${c.owner}/${c.name}`;
  const html = `${c.html}/${c.owner}/${c.name}`;
  const path = f.filename.split("/").map(encodeURIComponent).join("/");
  const out: Record<string, unknown> = {
    sha: f.sha,
    filename: f.filename,
    status: f.status,
    additions: f.additions,
    deletions: f.deletions,
    changes: f.additions + f.deletions,
    blob_url: `${html}/blob/${head}/${path}`,
    raw_url: `${html}/raw/${head}/${path}`,
    contents_url: `${repo}/contents/${path}?ref=${head}`,
  };
  if (f.previousFilename !== undefined) out.previous_filename = f.previousFilename;
  return out;
}

export interface ComparePage {
  commits: CommitInfo[];
  /** Undefined on pages after the first. */
  files: DiffFile[] | undefined;
}

export function compareBody(
  c: RepoContext,
  cmp: Comparison,
  commits: { base: CommitInfo; mergeBase: CommitInfo },
  page: ComparePage,
): Record<string, unknown> {
  const repo = `${c.api}/repos/${c.owner}/${c.name}`;
  const html = `${c.html}/${c.owner}/${c.name}`;
  const aheadBy = cmp.commits.length;
  const status =
    cmp.base === cmp.head || (aheadBy === 0 && cmp.behindBy === 0)
      ? "identical"
      : cmp.behindBy === 0
        ? "ahead"
        : aheadBy === 0
          ? "behind"
          : "diverged";
  return {
    url: `${repo}/compare/${cmp.base}...${cmp.head}`,
    html_url: `${html}/compare/${cmp.base}...${cmp.head}`,
    permalink_url: `${html}/compare/${c.owner}:${cmp.base}...${c.owner}:${cmp.head}`,
    diff_url: `${html}/compare/${cmp.base}...${cmp.head}.diff`,
    patch_url: `${html}/compare/${cmp.base}...${cmp.head}.patch`,
    base_commit: commitBody(c, commits.base),
    merge_base_commit: commitBody(c, commits.mergeBase),
    status,
    ahead_by: aheadBy,
    behind_by: cmp.behindBy,
    total_commits: aheadBy,
    commits: page.commits.map((info) => commitBody(c, info)),
    files: (page.files ?? []).map((f) => diffEntry(c, cmp.head, f)),
  };
}

function limitBody(s: LimitState, resource: string): Record<string, unknown> {
  return { limit: s.limit, remaining: s.remaining, reset: s.reset, used: s.used, resource };
}

/** GET /rate_limit: `core` is the real budget; the others are GitHub's usual figures, unused. */
export function rateLimitBody(core: LimitState, authorised: boolean): Record<string, unknown> {
  const fixed = (limit: number): LimitState => ({ limit, remaining: limit, used: 0, reset: core.reset });
  const resources = {
    core: limitBody(core, "core"),
    search: limitBody(fixed(authorised ? 30 : 10), "search"),
    graphql: limitBody(fixed(authorised ? 5000 : 0), "graphql"),
    integration_manifest: limitBody(fixed(5000), "integration_manifest"),
    code_search: limitBody(fixed(10), "code_search"),
  };
  return { resources, rate: limitBody(core, "core") };
}
