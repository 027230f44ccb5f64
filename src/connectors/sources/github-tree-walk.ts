import { PermanentError } from "../../errors.js";
import type { GithubApi, Tree, TreeEntry } from "./github-api.js";

/** A file (blob or symlink) of a tree, its path from the repository's root. */
export type FileEntry = Omit<TreeEntry, "type">;

export type TreeChange = { kind: "upsert"; file: FileEntry } | { kind: "delete"; path: string };

async function listing(api: GithubApi, sha: string, recursive: boolean, signal: AbortSignal, root = false) {
  const t = await api.tree(sha, recursive, signal, root);
  if (!t) throw new PermanentError(`tree ${sha} of ${api.owner}/${api.name} was not found`);
  return t;
}

const file = (e: TreeEntry, prefix: string): FileEntry => ({
  path: prefix + e.path,
  mode: e.mode,
  sha: e.sha,
  ...(e.size === undefined ? {} : { size: e.size }),
});

/**
 * Every file under a tree: its recursive listing in one request, or, where GitHub truncated that
 * listing (past 100,000 entries or 7 MB), the tree's own entries and each subtree walked the same way,
 * so no file is missed. Submodules (commits) are not files.
 */
export async function* walkTree(
  api: GithubApi,
  sha: string,
  signal: AbortSignal,
  prefix = "",
): AsyncIterable<FileEntry> {
  const whole = await listing(api, sha, true, signal, prefix === "");
  if (!whole.truncated) {
    for (const e of whole.entries) if (e.type === "blob") yield file(e, prefix);
    return;
  }
  const own = await listing(api, sha, false, signal);
  for (const e of own.entries) {
    if (e.type === "blob") yield file(e, prefix);
    else if (e.type === "tree") yield* walkTree(api, e.sha, signal, `${prefix}${e.path}/`);
  }
}

const same = (a: TreeEntry, b: TreeEntry): boolean =>
  a.type === b.type && a.sha === b.sha && a.mode === b.mode;

/**
 * The files that differ between two trees, walking only the subtrees whose sha changed (two
 * requests per changed directory; an added or removed directory is listed whole). A file whose
 * path was a directory before (or the reverse) is a delete and an upsert.
 */
export async function* diffTrees(
  api: GithubApi,
  before: string,
  after: string,
  signal: AbortSignal,
  prefix = "",
  /** `before`'s own listing, when the caller already has it. */
  listed?: Tree,
): AsyncIterable<TreeChange> {
  if (before === after) return;
  const [a, b] = await Promise.all([
    listed ?? listing(api, before, false, signal),
    listing(api, after, false, signal),
  ]);
  const old = new Map(a.entries.map((e) => [e.path, e]));
  const now = new Map(b.entries.map((e) => [e.path, e]));
  for (const name of [...new Set([...old.keys(), ...now.keys()])].sort()) {
    const o = old.get(name);
    const n = now.get(name);
    if (o && n && same(o, n)) continue;
    const path = prefix + name;
    if (o?.type === "tree" && n?.type === "tree") {
      yield* diffTrees(api, o.sha, n.sha, signal, `${path}/`);
      continue;
    }
    if (o?.type === "blob" && n?.type !== "blob") yield { kind: "delete", path };
    if (o?.type === "tree")
      for await (const f of walkTree(api, o.sha, signal, `${path}/`)) yield { kind: "delete", path: f.path };
    if (n?.type === "blob") yield { kind: "upsert", file: file(n, prefix) };
    if (n?.type === "tree")
      for await (const f of walkTree(api, n.sha, signal, `${path}/`)) yield { kind: "upsert", file: f };
  }
}
