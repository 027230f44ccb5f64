import { isHttpError, PermanentError } from "../../errors.js";
import type { HttpClient } from "../../resilience/http-client.js";
import type { KeyValueStore } from "../types.js";

/** One entry of a git tree listing (what the source keeps of it). */
export interface TreeEntry {
  path: string;
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
  size?: number;
}

export interface Tree {
  entries: TreeEntry[];
  truncated: boolean;
}

/** One file of a comparison (what the source keeps of it). */
export interface ComparedFile {
  filename: string;
  status: string;
  sha?: string;
  previous_filename?: string;
}

export interface Comparison {
  /** ahead: base is an ancestor of head; behind, diverged (a force-push), identical. */
  status: string;
  files: ComparedFile[];
}

/** The `core` resource of GET /rate_limit. */
export interface CoreLimit {
  limit: number;
  remaining: number;
  used: number;
  /** Epoch seconds. */
  reset: number;
}

/** A conditional response kept in the ledger: which URL, its ETag, and the part of its body the source uses. */
interface Kept {
  url: string;
  etag: string;
  body: unknown;
}

const enc = encodeURIComponent;

/** A value's field as a string, or a PermanentError naming the response that lacked it. */
function field(body: unknown, what: string, ...path: string[]): string {
  let v: unknown = body;
  for (const p of path)
    v = typeof v === "object" && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  if (typeof v !== "string") throw new PermanentError(`${what}: the response has no ${path.join(".")}`);
  return v;
}

/**
 * The REST calls the github source makes, through one token's resilient client. Responses that can
 * repeat unchanged (the repository, a branch, the root tree, a comparison) are asked for with the
 * ETag kept in the ledger per token (`slot`), so an unchanged answer is a 304, which GitHub does not
 * count against the rate limit.
 */
export class GithubApi {
  private readonly repoPath: string;

  constructor(
    private readonly http: HttpClient,
    readonly owner: string,
    readonly name: string,
    /** The provider's name: ETags differ by token, so they are kept under it. */
    private readonly provider: string,
    private readonly cache: KeyValueStore,
  ) {
    this.repoPath = `repos/${enc(owner)}/${enc(name)}`;
  }

  /** The repository's default branch. */
  async defaultBranch(signal: AbortSignal): Promise<string> {
    const body = await this.conditional("repo", this.repoPath, signal, (b) => ({
      default_branch: field(b, this.repoPath, "default_branch"),
    }));
    return field(body, this.repoPath, "default_branch");
  }

  /** The commit a branch points at; undefined when there is no such branch. */
  async branchHead(branch: string, signal: AbortSignal): Promise<string | undefined> {
    const url = `${this.repoPath}/branches/${enc(branch)}`;
    const body = await this.conditional(`branch:${branch}`, url, signal, (b) => ({
      sha: field(b, url, "commit", "sha"),
    }));
    return body === undefined ? undefined : field(body, url, "sha");
  }

  /** The commit a ref (tag, sha, branch) names; undefined when none. */
  async commit(ref: string, signal: AbortSignal): Promise<string | undefined> {
    const url = `${this.repoPath}/commits/${enc(ref)}`;
    const res = await this.get(url, signal);
    return res === undefined ? undefined : field(res, url, "sha");
  }

  /** A tree (a commit sha names its root tree); with `recursive`, every entry below it unless `truncated`. */
  async tree(sha: string, recursive: boolean, signal: AbortSignal, root = false): Promise<Tree | undefined> {
    const url = `${this.repoPath}/git/trees/${enc(sha)}${recursive ? "?recursive=1" : ""}`;
    const keep = (b: unknown): Tree => {
      const raw = (b as { tree?: unknown }).tree;
      if (!Array.isArray(raw)) throw new PermanentError(`${url}: the response has no tree`);
      const entries = (raw as TreeEntry[]).map(({ path, mode, type, sha, size }) =>
        size === undefined ? { path, mode, type, sha } : { path, mode, type, sha, size },
      );
      return { entries, truncated: (b as { truncated?: unknown }).truncated === true };
    };
    // only the root's recursive listing repeats (a re-listed plan); a subtree's is asked for once
    if (root && recursive) return (await this.conditional(`tree:${sha}`, url, signal, keep, "tree")) as Tree;
    const body = await this.get(url, signal);
    return body === undefined ? undefined : keep(body);
  }

  /** base...head: undefined when either commit is unknown or they share no history. */
  async compare(base: string, head: string, signal: AbortSignal): Promise<Comparison | undefined> {
    const url = `${this.repoPath}/compare/${enc(base)}...${enc(head)}`;
    const body = await this.conditional(
      `compare:${base}...${head}`,
      url,
      signal,
      (b) => {
        const files = (b as { files?: unknown }).files;
        return {
          status: field(b, url, "status"),
          files: (Array.isArray(files) ? (files as ComparedFile[]) : []).map(
            ({ filename, status, sha, previous_filename }) => ({
              filename,
              status,
              ...(sha ? { sha } : {}),
              ...(previous_filename ? { previous_filename } : {}),
            }),
          ),
        };
      },
      "compare",
    );
    return body as Comparison | undefined;
  }

  /** A blob's bytes. */
  async blob(sha: string, signal: AbortSignal): Promise<Buffer> {
    const url = `${this.repoPath}/git/blobs/${enc(sha)}`;
    const body = await this.get(url, signal);
    if (body === undefined) throw new PermanentError(`${url}: no such blob`);
    const content = field(body, url, "content");
    const encoding = (body as { encoding?: unknown }).encoding;
    return Buffer.from(content, encoding === "base64" ? "base64" : "utf8");
  }

  /** GET /rate_limit's core resource (the call costs no rate limit). */
  async rateLimit(signal: AbortSignal): Promise<CoreLimit> {
    const res = await this.http.getOnce("rate_limit", signal);
    const core = (res.body as { resources?: { core?: CoreLimit } } | null)?.resources?.core;
    if (!core || typeof core.remaining !== "number")
      throw new PermanentError("rate_limit: the response has no resources.core");
    return core;
  }

  /** A plain GET; undefined on 404. */
  private async get(url: string, signal: AbortSignal): Promise<unknown> {
    try {
      return (await this.http.getJson(url, signal)).body;
    } catch (e) {
      if (isHttpError(e) && e.status === 404) return undefined;
      throw e;
    }
  }

  /**
   * A GET with the ETag kept under `slot` (or under `group`, which holds one URL at a time, so the
   * ledger keeps one tree and one comparison per token and repository, not one per commit). `keep`
   * reduces a 200's body to what is kept and returned. Undefined on 404.
   */
  private async conditional(
    slot: string,
    url: string,
    signal: AbortSignal,
    keep: (body: unknown) => unknown,
    group?: string,
  ): Promise<unknown> {
    const key = `github_etag:${this.provider}:${this.owner}/${this.name}:${group ?? slot}`;
    const raw = await this.cache.get(key);
    const kept = raw === undefined ? undefined : (JSON.parse(raw) as Kept);
    const etag = kept?.url === url ? kept.etag : undefined;
    let res;
    try {
      res = await this.http.getJson(url, signal, etag === undefined ? {} : { ifNoneMatch: etag });
    } catch (e) {
      if (isHttpError(e) && e.status === 404) return undefined;
      throw e;
    }
    if (res.status === 304 && kept) return kept.body;
    const body = keep(res.body);
    const tag = res.headers.get("etag");
    if (tag) await this.cache.set(key, JSON.stringify({ url, etag: tag, body } satisfies Kept));
    return body;
  }
}
