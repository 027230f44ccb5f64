import { z } from "zod";
import { didYouMean } from "./closest-name.js";
import { languageNamed, LANGUAGES } from "./languages.js";
import { name } from "./names.js";
import { GITHUB_REPO } from "./github-repo.js";

/** One repository of the code indexer's `codebases:` list, as its users write it. */
export const codebaseSchema = z.strictObject({
  name: name("codebase name"),
  repo_url: z.string().regex(GITHUB_REPO, {
    error: (i) =>
      `repo_url ${JSON.stringify(i.input)} must be https://github.com/owner/name[.git] or owner/name`,
  }),
  /** Default: the repository's default branch. */
  branch: z.string().min(1).optional(),
});

/** The code indexer's `processing:` block: which files of every codebase are indexed. */
export const processingSchema = z.strictObject({
  /** gitignore-like: `node_modules/` (a folder anywhere), `*.min.js` (a name anywhere), `docs/build` (a path). */
  exclude_patterns: z.array(z.string().min(1)).default([]),
  /** Language names (python, typescript, go, ...); empty: every file. */
  supported_languages: z
    .array(
      z.string().refine((l) => languageNamed(l) !== undefined, {
        error: (i) =>
          `unknown language ${JSON.stringify(i.input)}${didYouMean(
            String(i.input),
            LANGUAGES.map((l) => l.name),
          )}; known: ${LANGUAGES.map((l) => l.name).join(", ")}`,
      }),
    )
    .default([]),
});

export type Codebase = z.infer<typeof codebaseSchema>;
export type Processing = z.infer<typeof processingSchema>;

/** An exclude pattern of the code indexer as globs over repository paths. */
export function excludeGlobs(pattern: string): string[] {
  const p = pattern.trim().replace(/^\.\//, "").replace(/^\/+/, "");
  if (p.endsWith("/")) {
    const dir = p.replace(/\/+$/, "");
    return dir.includes("/") ? [`${dir}/**`] : [`**/${dir}/**`];
  }
  return p.includes("/") ? [p, `${p}/**`] : [`**/${p}`, `**/${p}/**`];
}
