/** A programming or markup language as file names show it: the one table the config (supported_languages) and the chunker share. */
export interface Language {
  /** The name users write (`supported_languages: [python, typescript]`). */
  name: string;
  /** Lower-case file extensions with their dot. */
  extensions: readonly string[];
  /** Other names users write for it. */
  aliases?: readonly string[];
  /** Whole file names that are this language (Dockerfile, Makefile). */
  fileNames?: readonly string[];
}

export const LANGUAGES: readonly Language[] = [
  { name: "python", extensions: [".py", ".pyi"], aliases: ["py"] },
  { name: "typescript", extensions: [".ts", ".tsx", ".mts", ".cts"], aliases: ["ts", "tsx"] },
  { name: "javascript", extensions: [".js", ".jsx", ".mjs", ".cjs"], aliases: ["js", "jsx"] },
  { name: "go", extensions: [".go"], aliases: ["golang"] },
  { name: "rust", extensions: [".rs"], aliases: ["rs"] },
  { name: "java", extensions: [".java"] },
  { name: "kotlin", extensions: [".kt", ".kts"] },
  { name: "scala", extensions: [".scala", ".sc"] },
  { name: "c", extensions: [".c", ".h"] },
  { name: "cpp", extensions: [".cc", ".cpp", ".cxx", ".hh", ".hpp", ".hxx"], aliases: ["c++"] },
  { name: "csharp", extensions: [".cs"], aliases: ["c#", "cs"] },
  { name: "ruby", extensions: [".rb"], aliases: ["rb"] },
  { name: "php", extensions: [".php"] },
  { name: "swift", extensions: [".swift"] },
  { name: "shell", extensions: [".sh", ".bash", ".zsh"], aliases: ["bash", "sh"] },
  { name: "sql", extensions: [".sql"] },
  { name: "markdown", extensions: [".md", ".mdx"], aliases: ["md"] },
  { name: "yaml", extensions: [".yaml", ".yml"], aliases: ["yml"] },
  { name: "json", extensions: [".json"] },
  { name: "toml", extensions: [".toml"] },
  { name: "html", extensions: [".html", ".htm"] },
  { name: "css", extensions: [".css", ".scss"] },
  { name: "dockerfile", extensions: [], fileNames: ["Dockerfile"], aliases: ["docker"] },
  { name: "makefile", extensions: [".mk"], fileNames: ["Makefile", "GNUmakefile"], aliases: ["make"] },
];

const byName = new Map(LANGUAGES.flatMap((l) => [l.name, ...(l.aliases ?? [])].map((n) => [n, l] as const)));

/** The language a user's name (or alias) means, case-insensitively. */
export function languageNamed(name: string): Language | undefined {
  return byName.get(name.trim().toLowerCase());
}

/** The language of a file by its name (`src/a.ts` → typescript); null when none is known. */
export function languageOfPath(file: string): Language | null {
  const base = file.slice(file.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  const ext = dot > 0 ? base.slice(dot).toLowerCase() : "";
  return (
    LANGUAGES.find((l) => l.fileNames?.includes(base) || (ext !== "" && l.extensions.includes(ext))) ?? null
  );
}

/** Globs matching the files of a language, for include lists (`**\/*.py`). */
export function languageGlobs(l: Language): string[] {
  return [...l.extensions.map((e) => `**/*${e}`), ...(l.fileNames ?? []).map((f) => `**/${f}`)];
}
