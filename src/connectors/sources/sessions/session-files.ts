import { homedir } from "node:os";
import path from "node:path";
import { readdir } from "node:fs/promises";
import picomatch from "picomatch";
import type { SessionsSourceConfig } from "../../../config/sources-schema.js";

/** Where each agent keeps its transcripts. */
const DEFAULT_PATHS = {
  "claude-code": ["~/.claude/projects/**/*.jsonl"],
  codex: ["~/.codex/sessions/**/*.jsonl"],
} as const;

/** $HOME (tests and services set it), else the account's home folder. */
export function homeDir(): string {
  return process.env.HOME ?? homedir();
}

/** One path glob: the folder to walk and the pattern for the paths below it. */
export interface SessionGlob {
  base: string;
  match: (relative: string) => boolean;
  /** Not a pattern: this one file. */
  single: boolean;
}

/** The source's path globs, "~" expanded and resolved against the config file's folder. */
export function sessionGlobs(
  o: Pick<SessionsSourceConfig, "path" | "format">,
  baseDir: string,
): SessionGlob[] {
  const given =
    o.path === undefined
      ? o.format === "auto"
        ? [...DEFAULT_PATHS["claude-code"], ...DEFAULT_PATHS.codex]
        : [...DEFAULT_PATHS[o.format]]
      : typeof o.path === "string"
        ? [o.path]
        : o.path;
  return given.map((g) => {
    const expanded = g === "~" || g.startsWith("~/") ? path.join(homeDir(), g.slice(1)) : g;
    const full = path.resolve(baseDir, expanded).split(path.sep).join("/");
    const scan = picomatch.scan(full);
    if (!scan.isGlob) return { base: full, match: () => true, single: true };
    return { base: scan.base || "/", match: picomatch(scan.glob, { dot: true }), single: false };
  });
}

/** Whether a transcript file is one of the globs' files (the hook finds its job by it). */
export function globsCover(globs: readonly SessionGlob[], file: string): boolean {
  const f = path.resolve(file).split(path.sep).join("/");
  return globs.some((g) =>
    g.single ? g.base === f : f.startsWith(`${g.base.replace(/\/$/, "")}/`) && g.match(relativeTo(g.base, f)),
  );
}

const relativeTo = (base: string, file: string): string => path.posix.relative(base, file);

async function* walk(dir: string, signal: AbortSignal): AsyncIterable<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // a folder that does not exist (yet) holds no transcripts
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (signal.aborted) return;
    const p = `${dir.replace(/\/$/, "")}/${e.name}`;
    if (e.isDirectory()) yield* walk(p, signal);
    else if (e.isFile()) yield p;
  }
}

/**
 * The transcript files of the globs, each once: a path glob's files, kept by `include` and dropped by
 * `exclude` (both matched against the path below the glob's folder; for a single file, its name).
 */
export async function findSessionFiles(
  globs: readonly SessionGlob[],
  include: readonly string[],
  exclude: readonly string[],
  signal: AbortSignal,
): Promise<string[]> {
  const inc = picomatch([...include], { dot: true });
  const exc = exclude.length > 0 ? picomatch([...exclude], { dot: true }) : () => false;
  const out = new Set<string>();
  for (const g of globs) {
    if (g.single) {
      const name = path.posix.basename(g.base);
      if (inc(name) && !exc(name)) for await (const f of walkOne(g.base)) out.add(f);
      continue;
    }
    for await (const file of walk(g.base, signal)) {
      const rel = relativeTo(g.base, file);
      if (g.match(rel) && inc(rel) && !exc(rel)) out.add(file);
    }
  }
  return [...out];
}

async function* walkOne(file: string): AsyncIterable<string> {
  try {
    const dir = path.posix.dirname(file);
    const entries = await readdir(dir);
    if (entries.includes(path.posix.basename(file))) yield file;
  } catch {
    // no such folder: no such file
  }
}

/** A file as the episodes name it: relative to the config file's folder, or "~/…", or absolute. */
export function displayPath(file: string, baseDir: string): string {
  const rel = path.relative(baseDir, file);
  if (rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel)) return rel.split(path.sep).join("/");
  const home = path.relative(homeDir(), file);
  if (home !== "" && !home.startsWith("..") && !path.isAbsolute(home))
    return `~/${home.split(path.sep).join("/")}`;
  return file;
}
