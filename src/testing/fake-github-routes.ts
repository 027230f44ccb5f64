/**
 * The fake GitHub server's routes: each GET answers from a real git repository, with an ETag identity
 * for conditional requests. Serialised bodies of immutable objects (trees, blobs) are cached by sha.
 */
import {
  blobBody,
  branchBody,
  commitBody,
  compareBody,
  errorBody,
  repoBody,
  treeBody,
  type RepoContext,
} from "./fake-github-bodies.js";
import type { GitRepoReader } from "./fake-github-git.js";

export interface RouteResult {
  status: number;
  /** Serialised JSON (cached bodies are kept encoded). */
  body: string | Buffer;
  /** Identity of the representation (hashed with the caller into an ETag); only on 200s. */
  tag?: string;
  headers?: Record<string, string>;
}

export interface ServedRepo {
  reader: GitRepoReader;
  defaultBranch: string | undefined;
}

export interface RouteContext {
  /** API root (with the prefix). */
  api: string;
  html: string;
  treeTruncateAt: number;
  compareFileLimit: number;
  cache: BodyCache;
}

/** Serialised bodies, encoded, kept up to a byte budget, oldest first out. */
export class BodyCache {
  private readonly map = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  async get(key: string, make: () => Promise<unknown>): Promise<Buffer | undefined> {
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const value = await make();
    if (value === undefined) return undefined;
    const made = Buffer.from(JSON.stringify(value), "utf8");
    if (made.length > this.maxBytes / 4) return made;
    this.map.set(key, made);
    this.bytes += made.length;
    for (const [k, v] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= v.length;
    }
    return made;
  }
}

const REPO_ROUTE = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/;
const COMPARE_COMMITS_DEFAULT = 250;

export const notFound = (): RouteResult => ({
  status: 404,
  body: JSON.stringify(errorBody(404, "Not Found")),
});

const ok = (body: unknown, tag: string): RouteResult => ({ status: 200, body: JSON.stringify(body), tag });

function decode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** A non-negative integer query parameter, or undefined. */
function intParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  return raw !== null && /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
}

/** Answers a GET under /repos/{owner}/{name}; undefined when the path is no repository route. */
export async function repoRoute(
  ctx: RouteContext,
  repos: Map<string, ServedRepo>,
  path: string,
  params: URLSearchParams,
): Promise<RouteResult | undefined> {
  const m = REPO_ROUTE.exec(path);
  if (!m) return undefined;
  const owner = decode(m[1]!);
  const name = decode(m[2]!);
  const repo = owner !== undefined && name !== undefined ? lookup(repos, `${owner}/${name}`) : undefined;
  if (!repo) return notFound();
  const c: RepoContext = { api: ctx.api, html: ctx.html, owner: repo.owner, name: repo.name };
  const rest = m[3] ?? "";
  const { reader } = repo.served;
  const sub = /^\/(branches|commits|git\/trees|git\/blobs|compare)\/(.+)$/.exec(rest);
  if (rest === "" || rest === "/") {
    const branch = repo.served.defaultBranch ?? (await reader.headBranch()) ?? "main";
    const head = await reader.branchHead(branch);
    const info = head === undefined ? undefined : await reader.commit(head);
    const pushedAt = info?.committer.date ?? "2020-01-01T00:00:00Z";
    return ok(repoBody(c, branch, pushedAt), `repo:${c.owner}/${c.name}:${branch}:${head ?? ""}`);
  }
  const arg = sub ? decode(sub[2]!) : undefined;
  if (!sub || arg === undefined) return notFound();
  switch (sub[1]) {
    case "branches": {
      const head = await reader.branchHead(arg);
      const info = head === undefined ? undefined : await reader.commit(head);
      return info ? ok(branchBody(c, arg, info), `branch:${arg}:${info.sha}`) : notFound();
    }
    case "commits": {
      const sha = await reader.resolve(arg, "commit");
      const info = sha === undefined ? undefined : await reader.commit(sha);
      return info ? ok(commitBody(c, info), `commit:${info.sha}`) : notFound();
    }
    case "git/trees":
      return tree(ctx, c, reader, arg, params.has("recursive"));
    case "git/blobs":
      return blob(ctx, c, reader, arg);
    default:
      return compare(ctx, c, reader, arg, params);
  }
}

function lookup(
  repos: Map<string, ServedRepo>,
  full: string,
): { served: ServedRepo; owner: string; name: string } | undefined {
  for (const key of [full, full.toLowerCase()]) {
    const served = repos.get(key);
    if (served) {
      const [owner, name] = key.split("/") as [string, string];
      return { served, owner, name };
    }
  }
  return undefined;
}

async function tree(
  ctx: RouteContext,
  c: RepoContext,
  reader: GitRepoReader,
  ref: string,
  recursive: boolean,
): Promise<RouteResult> {
  const sha = await reader.resolve(ref, "tree");
  if (sha === undefined) return notFound();
  const key = `tree:${c.owner}/${c.name}:${sha}:${recursive ? "r" : "d"}:${ctx.treeTruncateAt}`;
  const body = await ctx.cache.get(key, async () => {
    const entries = await reader.tree(sha, recursive);
    return entries && treeBody(c, sha, entries, recursive ? ctx.treeTruncateAt : Infinity);
  });
  return body === undefined ? notFound() : { status: 200, body, tag: key };
}

async function blob(
  ctx: RouteContext,
  c: RepoContext,
  reader: GitRepoReader,
  sha: string,
): Promise<RouteResult> {
  const key = `blob:${c.owner}/${c.name}:${sha}`;
  const body = await ctx.cache.get(key, async () => {
    const content = await reader.blob(sha);
    return content && blobBody(c, sha, content);
  });
  return body === undefined ? notFound() : { status: 200, body, tag: key };
}

async function compare(
  ctx: RouteContext,
  c: RepoContext,
  reader: GitRepoReader,
  basehead: string,
  params: URLSearchParams,
): Promise<RouteResult> {
  const dots = basehead.indexOf("...");
  if (dots < 0) return notFound();
  const [base, head] = await Promise.all([
    reader.resolve(basehead.slice(0, dots), "commit"),
    reader.resolve(basehead.slice(dots + 3), "commit"),
  ]);
  if (base === undefined || head === undefined) return notFound();
  const cmp = await reader.compare(base, head);
  if (!cmp) {
    const message = `No common ancestor between ${basehead.slice(0, dots)} and ${basehead.slice(dots + 3)}.`;
    return { status: 404, body: JSON.stringify(errorBody(404, message)) };
  }
  // Without page/per_page GitHub lists up to 250 commits; with them, pages of per_page (default 30, max 100).
  const paged = params.has("page") || params.has("per_page");
  const perPage = paged
    ? Math.min(100, Math.max(1, intParam(params, "per_page") ?? 30))
    : COMPARE_COMMITS_DEFAULT;
  const page = Math.max(1, intParam(params, "page") ?? 1);
  const shas = cmp.commits.slice((page - 1) * perPage, page * perPage);
  const [baseInfo, mergeBaseInfo, ...commits] = await Promise.all(
    [base, cmp.mergeBase, ...shas].map((sha) => reader.commit(sha)),
  );
  if (!baseInfo || !mergeBaseInfo || commits.some((x) => !x))
    throw new Error("compare: a commit went missing");
  const files = page === 1 ? cmp.files.slice(0, ctx.compareFileLimit) : undefined;
  const body = compareBody(
    c,
    cmp,
    { base: baseInfo, mergeBase: mergeBaseInfo },
    { commits: commits.map((x) => x!), files },
  );
  const headers: Record<string, string> = {};
  const lastPage = Math.max(1, Math.ceil(cmp.commits.length / perPage));
  if (paged && page < lastPage) {
    const link = (p: number): string =>
      `<${ctx.api}/repos/${c.owner}/${c.name}/compare/${base}...${head}?page=${p}&per_page=${perPage}>`;
    headers.link = `${link(page + 1)}; rel="next", ${link(lastPage)}; rel="last"`;
  }
  return { ...ok(body, `compare:${base}:${head}:${page}:${perPage}:${ctx.compareFileLimit}`), headers };
}
