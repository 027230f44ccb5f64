import path from "node:path";
import { ConfigError } from "../../errors.js";
import type { ClaimedItem, PlannedItem } from "../../ledger/types.js";
import type { ConnectorContext, Fetched, Source, SourceListing } from "../types.js";
import { CatFile, git, splitNul } from "./git-cli.js";
import { PathFilter } from "./path-filter.js";

export interface GitSourceOptions {
  repo: string;
  branch: string;
  include: readonly string[];
  exclude: readonly string[];
  max_file_bytes: number;
}

const BLOB_MODES = new Set(["100644", "100755"]);
const SYMLINK_MODE = "120000";

/** Files of a local git repository; item key = path, version = blob sha. */
export class GitSource implements Source {
  readonly type = "git";
  private readonly repo: string;
  private readonly filter: PathFilter;
  private readonly catFile: CatFile;

  constructor(
    private readonly options: GitSourceOptions,
    baseDir: string,
  ) {
    this.repo = path.resolve(baseDir, options.repo);
    this.filter = new PathFilter(options.include, options.exclude);
    this.catFile = new CatFile(this.repo);
  }

  async target(ctx: ConnectorContext): Promise<string> {
    try {
      const out = await git(
        this.repo,
        ["rev-parse", "--verify", "--end-of-options", `${this.options.branch}^{commit}`],
        ctx.signal,
      );
      return out.toString().trim();
    } catch (e) {
      throw new ConfigError(
        `jobs.${ctx.job}.phases.${ctx.phase}.source: cannot read branch "${this.options.branch}" of the git repository ${this.repo}`,
        e,
      );
    }
  }

  async list(from: string | null, target: string | null, ctx: ConnectorContext): Promise<SourceListing> {
    if (target === null) throw new Error("git source needs a target commit");
    if (from !== null && (await this.hasCommit(from, ctx.signal))) {
      return { mode: "delta", items: this.diff(from, target, ctx.signal) };
    }
    return { mode: "snapshot", items: this.tree(target, ctx) };
  }

  async fetch(item: ClaimedItem): Promise<Fetched> {
    const meta = item.meta ?? {};
    if (meta.mode === SYMLINK_MODE) return { skip: "symlink" };
    if (item.version === null) throw new Error(`item ${item.key} has no blob to fetch`);
    const blob = await this.catFile.read(item.version);
    if (!blob) throw new ConfigError(`blob ${item.version} of ${item.key} is missing from ${this.repo}`);
    if (blob.content.length > this.options.max_file_bytes) return { skip: "oversized" };
    const head = blob.content.subarray(0, 8000);
    if (head.includes(0)) return { skip: "binary" };
    return {
      content: blob.content.toString("utf8"),
      metadata: { path: item.key, bytes: blob.content.length },
    };
  }

  close(): Promise<void> {
    return this.catFile.close();
  }

  private async hasCommit(sha: string, signal: AbortSignal): Promise<boolean> {
    try {
      await git(this.repo, ["cat-file", "-e", `${sha}^{commit}`], signal);
      return true;
    } catch {
      return false;
    }
  }

  private async *tree(commit: string, ctx: ConnectorContext): AsyncIterable<PlannedItem> {
    const out = await git(this.repo, ["ls-tree", "-r", "-z", "--full-tree", commit], ctx.signal);
    const track = this.filter.track();
    for (const record of splitNul(out)) {
      const tab = record.indexOf("\t");
      const [mode, type, sha] = record.slice(0, tab).split(" ");
      const file = record.slice(tab + 1);
      if (type !== "blob" || sha === undefined || mode === undefined) continue;
      track.see(file);
      if (!this.filter.matches(file)) continue;
      yield { key: file, version: sha, op: "upsert", ...(mode === SYMLINK_MODE ? { meta: { mode } } : {}) };
    }
    // a full listing sees every file: a pattern that matched none of them is most likely a mistake
    for (const m of track.unmatched()) ctx.warn?.(`${m} at ${commit.slice(0, 12)} of ${this.repo}`);
  }

  private async *diff(from: string, to: string, signal: AbortSignal): AsyncIterable<PlannedItem> {
    const out = await git(this.repo, ["diff-tree", "-r", "-z", "-M", "--no-abbrev", from, to], signal);
    const fields = splitNul(out);
    for (let i = 0; i < fields.length;) {
      const [, newMode, , newSha, status] = fields[i++]!.slice(1).split(" ");
      const kind = status?.[0];
      const first = fields[i++]!;
      const second = kind === "R" || kind === "C" ? fields[i++]! : undefined;
      const upsert = (file: string): PlannedItem | undefined =>
        this.filter.matches(file) &&
        newMode !== undefined &&
        (BLOB_MODES.has(newMode) || newMode === SYMLINK_MODE)
          ? {
              key: file,
              version: newSha!,
              op: "upsert",
              ...(newMode === SYMLINK_MODE ? { meta: { mode: newMode } } : {}),
            }
          : undefined;
      const remove = (file: string): PlannedItem | undefined =>
        this.filter.matches(file) ? { key: file, version: null, op: "delete" } : undefined;
      const items =
        kind === "D"
          ? [remove(first)]
          : kind === "R"
            ? [remove(first), upsert(second!)]
            : kind === "C"
              ? [upsert(second!)]
              : [upsert(first) ?? remove(first)]; // A, M, T: a type change to a submodule leaves the index
      for (const it of items) if (it) yield it;
    }
  }
}
