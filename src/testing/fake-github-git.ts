/**
 * What the fake GitHub server knows of a repository, read from a real git repository. Refs are read on
 * every request (tests commit and force-push while the server runs); objects are immutable by sha, so
 * trees, commits and comparisons are cached per sha, and blobs come from one long-lived cat-file.
 */
import { execFile } from "node:child_process";
import { CatFileBatch } from "./git-cat-file.js";

export interface TreeEntry {
  path: string;
  mode: string;
  type: "blob" | "tree" | "commit";
  sha: string;
  /** Blobs only. */
  size?: number;
}

export interface GitPerson {
  name: string;
  email: string;
  /** ISO 8601, UTC, whole seconds. */
  date: string;
}

export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  author: GitPerson;
  committer: GitPerson;
  message: string;
}

export interface DiffFile {
  status: "added" | "removed" | "modified" | "renamed" | "copied" | "changed";
  filename: string;
  previousFilename?: string;
  /** The blob at head; for a removed file, the blob at the base. */
  sha: string;
  additions: number;
  deletions: number;
}

export interface Comparison {
  base: string;
  head: string;
  mergeBase: string;
  /** Commits in head not in base, oldest first. */
  commits: string[];
  behindBy: number;
  files: DiffFile[];
}

const SHA = /^[0-9a-f]{40}$/;
const MAX_OUTPUT = 1 << 30;
const RAW_STATUS: Record<string, DiffFile["status"]> = {
  A: "added",
  D: "removed",
  M: "modified",
  R: "renamed",
  C: "copied",
  T: "changed",
};

export class GitRepoReader {
  private readonly objects: CatFileBatch;
  private readonly commits = new Map<string, CommitInfo>();
  /** tree sha → its direct entries (paths relative to it). */
  private readonly direct = new Map<string, TreeEntry[]>();
  /** tree sha → every entry below it, trees included (ls-tree -r -t order). */
  private readonly recursive = new Map<string, TreeEntry[]>();
  private readonly comparisons = new Map<string, Promise<Comparison | undefined>>();
  /** Listings being read, by tree sha (concurrent requests for one tree share one process). */
  private readonly listings = new Map<string, Promise<boolean>>();
  /** Shas seen as trees in a listing (a walk resolves them without a process). */
  private readonly knownTrees = new Set<string>();

  constructor(readonly dir: string) {
    this.objects = new CatFileBatch(dir);
  }

  /** Runs git in the repository; undefined when it exits non-zero. */
  git(args: string[]): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      execFile(
        "git",
        ["-C", this.dir, ...args],
        { maxBuffer: MAX_OUTPUT, encoding: "utf8" },
        (err, stdout) => {
          if (!err) resolve(stdout);
          else if (typeof err.code === "number") resolve(undefined);
          else reject(new Error(`git ${args[0] ?? ""}: ${err.message}`, { cause: err }));
        },
      );
    });
  }

  /** The branch HEAD names (the default branch of a fresh clone). */
  async headBranch(): Promise<string | undefined> {
    return (await this.git(["symbolic-ref", "--quiet", "--short", "HEAD"]))?.trim() || undefined;
  }

  /** The commit a branch points at now. */
  branchHead(branch: string): Promise<string | undefined> {
    return this.resolve(`refs/heads/${branch}`, "commit");
  }

  /** A sha, branch or tag → the commit (or, with "tree", the tree) it names now. */
  async resolve(ref: string, kind: "commit" | "tree"): Promise<string | undefined> {
    if (ref === "" || ref.startsWith("-") || /[\s\0]/.test(ref)) return undefined;
    if (SHA.test(ref) && (kind === "tree" ? this.knownTrees.has(ref) : this.commits.has(ref))) return ref;
    const out = await this.git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{${kind}}`]);
    const sha = out?.trim();
    return sha && SHA.test(sha) ? sha : undefined;
  }

  async commit(sha: string): Promise<CommitInfo | undefined> {
    const cached = this.commits.get(sha);
    if (cached) return cached;
    const obj = await this.objects.read(sha);
    if (obj?.type !== "commit") return undefined;
    const info = parseCommit(sha, obj.content.toString("utf8"));
    this.commits.set(sha, info);
    return info;
  }

  async blob(sha: string): Promise<Buffer | undefined> {
    if (!SHA.test(sha)) return undefined;
    const obj = await this.objects.read(sha);
    return obj?.type === "blob" ? obj.content : undefined;
  }

  /**
   * A tree's entries, direct or recursive; undefined when `sha` is no tree. One `ls-tree -r` answers
   * both, and the direct listings of every subtree below (a walk of subtrees then spawns nothing more).
   */
  async tree(sha: string, recursive: boolean): Promise<TreeEntry[] | undefined> {
    const cached = (recursive ? this.recursive : this.direct).get(sha);
    if (cached) return cached;
    let pending = this.listings.get(sha);
    if (!pending) {
      pending = this.listRecursive(sha);
      this.listings.set(sha, pending);
      pending.finally(() => this.listings.delete(sha)).catch(() => undefined);
    }
    if (!(await pending)) return undefined;
    return (recursive ? this.recursive : this.direct).get(sha);
  }

  private async listRecursive(sha: string): Promise<boolean> {
    const out = await this.git(["ls-tree", "-r", "-t", "-l", "-z", sha]);
    if (out === undefined) return false;
    const entries = parseLsTree(out);
    this.recursive.set(sha, entries);
    this.knownTrees.add(sha);
    for (const e of entries) if (e.type === "tree") this.knownTrees.add(e.sha);
    this.rememberSubtrees(sha, entries);
    return true;
  }

  /** Base...head as GitHub compares: from their merge base. Undefined when they share no history. */
  compare(base: string, head: string): Promise<Comparison | undefined> {
    const key = `${base}...${head}`;
    let result = this.comparisons.get(key);
    if (!result) {
      result = this.computeComparison(base, head);
      this.comparisons.set(key, result);
      result.catch(() => this.comparisons.delete(key));
    }
    return result;
  }

  close(): void {
    this.objects.close();
  }

  private async computeComparison(base: string, head: string): Promise<Comparison | undefined> {
    const mergeBase = (await this.git(["merge-base", base, head]))?.trim();
    if (!mergeBase) return undefined;
    const diffArgs = ["-c", "core.quotePath=false", "diff", "-z", "-M", "-C", "--no-abbrev", "--no-ext-diff"];
    const [counts, list, raw, numstat] = await Promise.all([
      this.git(["rev-list", "--left-right", "--count", `${base}...${head}`]),
      this.git(["rev-list", "--reverse", `${base}..${head}`]),
      this.git([...diffArgs, "--raw", mergeBase, head]),
      this.git([...diffArgs, "--numstat", mergeBase, head]),
    ]);
    if (counts === undefined || list === undefined || raw === undefined || numstat === undefined) {
      throw new Error(`git could not compare ${base}...${head}`);
    }
    const behindBy = Number(counts.trim().split(/\s+/)[0]);
    const commits = list.split("\n").filter((s) => SHA.test(s));
    return { base, head, mergeBase, commits, behindBy, files: parseRawDiff(raw, parseNumstat(numstat)) };
  }

  /** Fills the direct listings of every tree below `root` from its recursive listing. */
  private rememberSubtrees(root: string, entries: TreeEntry[]): void {
    const shaOf = new Map<string, string>([["", root]]);
    const children = new Map<string, TreeEntry[]>([["", []]]);
    for (const e of entries) {
      const slash = e.path.lastIndexOf("/");
      const parent = slash < 0 ? "" : e.path.slice(0, slash);
      const name = e.path.slice(slash + 1);
      children.get(parent)?.push({ ...e, path: name });
      if (e.type === "tree") {
        shaOf.set(e.path, e.sha);
        children.set(e.path, []);
      }
    }
    for (const [dirPath, list] of children) {
      const sha = shaOf.get(dirPath)!;
      if (!this.direct.has(sha)) this.direct.set(sha, list);
    }
  }
}

function parsePerson(line: string): GitPerson {
  const m = /^(.*) <([^>]*)> (\d+) [+-]\d{4}$/.exec(line);
  if (!m) return { name: line, email: "", date: new Date(0).toISOString().replace(".000Z", "Z") };
  const date = new Date(Number(m[3]) * 1000).toISOString().replace(".000Z", "Z");
  return { name: m[1]!, email: m[2]!, date };
}

function parseCommit(sha: string, text: string): CommitInfo {
  const split = text.indexOf("\n\n");
  const headers = (split < 0 ? text : text.slice(0, split)).split("\n");
  const info: CommitInfo = {
    sha,
    tree: "",
    parents: [],
    author: parsePerson(""),
    committer: parsePerson(""),
    message: split < 0 ? "" : text.slice(split + 2).replace(/\n$/, ""),
  };
  for (const line of headers) {
    const space = line.indexOf(" ");
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (key === "tree") info.tree = value;
    else if (key === "parent") info.parents.push(value);
    else if (key === "author") info.author = parsePerson(value);
    else if (key === "committer") info.committer = parsePerson(value);
  }
  return info;
}

/** `git ls-tree -l -z` output: "<mode> <type> <sha> <size|->\t<path>\0"… */
function parseLsTree(out: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const record of out.split("\0")) {
    if (record === "") continue;
    const tab = record.indexOf("\t");
    const [mode, type, sha, size] = record.slice(0, tab).split(/ +/);
    const entry: TreeEntry = {
      path: record.slice(tab + 1),
      mode: mode!,
      type: type as TreeEntry["type"],
      sha: sha!,
    };
    if (type === "blob") entry.size = Number(size);
    entries.push(entry);
  }
  return entries;
}

/** `git diff --numstat -z`: path (or "from\0to" of a rename) → added and deleted lines (0 for binary). */
function parseNumstat(out: string): Map<string, { additions: number; deletions: number }> {
  const stats = new Map<string, { additions: number; deletions: number }>();
  const parts = out.split("\0");
  for (let i = 0; i < parts.length; i++) {
    const record = parts[i]!;
    if (record === "") continue;
    const [added, deleted, ...rest] = record.split("\t");
    let path = rest.join("\t");
    if (path === "") {
      i += 2; // a rename or copy: "added\tdeleted\t\0from\0to\0"
      path = parts[i] ?? "";
    }
    const n = (s: string | undefined): number => (s && /^\d+$/.test(s) ? Number(s) : 0);
    stats.set(path, { additions: n(added), deletions: n(deleted) });
  }
  return stats;
}

/** `git diff --raw -z`: ":<mode> <mode> <sha> <sha> <status>\0<path>\0[<path>\0]"… */
function parseRawDiff(out: string, stats: Map<string, { additions: number; deletions: number }>): DiffFile[] {
  const files: DiffFile[] = [];
  const parts = out.split("\0");
  for (let i = 0; i < parts.length; i++) {
    const meta = parts[i]!;
    if (!meta.startsWith(":")) continue;
    const [, , oldSha, newSha, code] = meta.slice(1).split(" ");
    const letter = (code ?? "M").charAt(0);
    const status = RAW_STATUS[letter] ?? "modified";
    const first = parts[++i] ?? "";
    const file: DiffFile =
      letter === "R" || letter === "C"
        ? {
            status,
            filename: parts[++i] ?? "",
            previousFilename: first,
            sha: newSha!,
            additions: 0,
            deletions: 0,
          }
        : {
            status,
            filename: first,
            sha: status === "removed" ? oldSha! : newSha!,
            additions: 0,
            deletions: 0,
          };
    const s = stats.get(file.filename);
    if (s) Object.assign(file, s);
    files.push(file);
  }
  return files;
}
