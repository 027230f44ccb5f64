import { ConfigError } from "../../errors.js";
import type { GithubSourceConfig } from "../../config/sources-schema.js";
import { parseGithubRepo } from "../../config/github-repo.js";
import type { ClaimedItem, PlannedItem } from "../../ledger/types.js";
import type { OwnProviderSpec } from "../../resilience/providers.js";
import type { ConnectorContext, Fetched, Source, SourceListing } from "../types.js";
import { GithubApi, type ComparedFile, type CoreLimit, type Tree } from "./github-api.js";
import { githubProvider, type GithubProvider } from "./github-provider.js";
import { diffTrees, walkTree, type FileEntry } from "./github-tree-walk.js";
import { PathFilter } from "./path-filter.js";

const SYMLINK_MODE = "120000";

// eslint-disable-next-line @typescript-eslint/require-await -- a listing known in full, served as a source's stream
async function* listed<T>(items: Iterable<T>): AsyncIterable<T> {
  yield* items;
}
/** Compare lists at most 300 files, without saying when it cut the list. */
const COMPARE_FILE_LIMIT = 300;

/**
 * Files of a GitHub repository through the REST API, no clone: item key = path, version = blob sha
 * (as the git source's, so switching a job between them redoes nothing unchanged). The first run
 * lists the head's tree; later runs the comparison with the checkpoint when it is a fast-forward of
 * under 300 files, else the difference of the two trees.
 */
export class GithubSource implements Source {
  readonly type = "github";
  private readonly filter: PathFilter;
  private readonly provider: GithubProvider;
  private readonly owner: string;
  private readonly name: string;
  private api_: GithubApi | undefined;

  constructor(
    private readonly o: GithubSourceConfig,
    at: string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.filter = new PathFilter(o.include, o.exclude);
    this.provider = githubProvider(o, at, env);
    ({ owner: this.owner, name: this.name } = parseGithubRepo(o.repo));
  }

  private api(ctx: ConnectorContext): GithubApi {
    this.api_ ??= new GithubApi(
      ctx.ownHttp(this.provider.name, this.provider.spec),
      this.owner,
      this.name,
      this.provider.name,
      ctx.cache,
    );
    return this.api_;
  }

  private get where(): string {
    return `${this.owner}/${this.name} at ${this.o.base_url}`;
  }

  /** The head commit of the branch (or the commit the ref names) now. */
  async target(ctx: ConnectorContext): Promise<string> {
    const api = this.api(ctx);
    const ref = this.o.ref ?? this.o.branch ?? (await api.defaultBranch(ctx.signal));
    const sha = (await api.branchHead(ref, ctx.signal)) ?? (await api.commit(ref, ctx.signal));
    if (sha === undefined)
      throw new ConfigError(
        `jobs.${ctx.job}.phases.${ctx.phase}.source: no branch, tag or commit "${ref}" in ${this.where}`,
      );
    return sha;
  }

  async list(from: string | null, target: string | null, ctx: ConnectorContext): Promise<SourceListing> {
    if (target === null) throw new Error("github source needs a target commit");
    if (from === null) return { mode: "snapshot", items: this.snapshot(target, ctx) };
    const api = this.api(ctx);
    const cmp = await api.compare(from, target, ctx.signal);
    // a fast-forward whose every changed file is listed; after a force-push compare counts from the merge base
    if (
      cmp &&
      (cmp.status === "ahead" || cmp.status === "identical") &&
      cmp.files.length < COMPARE_FILE_LIMIT
    )
      return { mode: "delta", items: listed(this.compared(cmp.files)) };
    const before = await api.tree(from, false, ctx.signal);
    if (before === undefined) return { mode: "snapshot", items: this.snapshot(target, ctx) }; // the old commit is gone
    return { mode: "delta", items: this.treeDiff(api, from, target, ctx.signal, before) };
  }

  async fetch(item: ClaimedItem, ctx: ConnectorContext): Promise<Fetched> {
    const meta = item.meta ?? {};
    if (meta.mode === SYMLINK_MODE) return { skip: "symlink" };
    if (typeof meta.size === "number" && meta.size > this.o.max_file_bytes) return { skip: "oversized" };
    if (item.version === null) throw new Error(`item ${item.key} has no blob to fetch`);
    const content = await this.api(ctx).blob(item.version, ctx.signal);
    if (content.length > this.o.max_file_bytes) return { skip: "oversized" };
    if (content.subarray(0, 8000).includes(0)) return { skip: "binary" };
    return { content: content.toString("utf8"), metadata: { path: item.key, bytes: content.length } };
  }

  /** The provider this source calls through (one per API host and token). */
  get providerName(): string {
    return this.provider.name;
  }

  get providerSpec(): OwnProviderSpec {
    return this.provider.spec;
  }

  /** The token's primary limit now, from GET /rate_limit (which costs none of it). */
  limits(ctx: ConnectorContext): Promise<CoreLimit> {
    return this.api(ctx).rateLimit(ctx.signal);
  }

  /** A file to index; compare gives no mode or size, a tree listing both. */
  private upsert(f: Pick<FileEntry, "path" | "sha"> & Partial<FileEntry>): PlannedItem | undefined {
    if (!this.filter.matches(f.path)) return undefined;
    const meta = {
      ...(f.mode === SYMLINK_MODE ? { mode: f.mode } : {}),
      ...(f.size === undefined ? {} : { size: f.size }),
    };
    return { key: f.path, version: f.sha, op: "upsert", ...(Object.keys(meta).length > 0 ? { meta } : {}) };
  }

  private remove(path: string): PlannedItem | undefined {
    return this.filter.matches(path) ? { key: path, version: null, op: "delete" } : undefined;
  }

  private async *snapshot(commit: string, ctx: ConnectorContext): AsyncIterable<PlannedItem> {
    const track = this.filter.track();
    for await (const f of walkTree(this.api(ctx), commit, ctx.signal)) {
      track.see(f.path);
      const item = this.upsert(f);
      if (item) yield item;
    }
    for (const m of track.unmatched()) ctx.warn?.(`${m} at ${commit.slice(0, 12)} of ${this.where}`);
  }

  private *compared(files: readonly ComparedFile[]): Iterable<PlannedItem> {
    for (const f of files) {
      const items =
        f.status === "removed"
          ? [this.remove(f.filename)]
          : f.status === "unchanged"
            ? []
            : [
                f.status === "renamed" && f.previous_filename ? this.remove(f.previous_filename) : undefined,
                f.sha ? this.upsert({ path: f.filename, sha: f.sha }) : undefined,
              ];
      for (const it of items) if (it) yield it;
    }
  }

  private async *treeDiff(
    api: GithubApi,
    from: string,
    to: string,
    signal: AbortSignal,
    before: Tree,
  ): AsyncIterable<PlannedItem> {
    for await (const c of diffTrees(api, from, to, signal, "", before)) {
      const item = c.kind === "delete" ? this.remove(c.path) : this.upsert(c.file);
      if (item) yield item;
    }
  }
}
