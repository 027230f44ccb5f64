import picomatch from "picomatch";

interface Pattern {
  kind: "include" | "exclude";
  glob: string;
  test: (file: string) => boolean;
}

/** A source's include/exclude globs over repository paths (dotfiles match like any other file). */
export class PathFilter {
  readonly matches: (file: string) => boolean;
  /** Each pattern alone, to tell which of them match nothing in a full listing. */
  private readonly patterns: Pattern[];

  constructor(include: readonly string[], exclude: readonly string[]) {
    const inc = picomatch([...include], { dot: true });
    const exc = exclude.length > 0 ? picomatch([...exclude], { dot: true }) : () => false;
    this.matches = (file) => inc(file) && !exc(file);
    this.patterns = [
      ...include.map((glob) => ({ kind: "include" as const, glob, test: picomatch(glob, { dot: true }) })),
      ...exclude.map((glob) => ({ kind: "exclude" as const, glob, test: picomatch(glob, { dot: true }) })),
    ];
  }

  /**
   * Follows a full listing: `see` each file, then `unmatched` names the patterns that matched none (an
   * exclude counts only for an included file) — most likely mistakes, worth a warning.
   */
  track(): { see(file: string): void; unmatched(): string[] } {
    const left = new Set(this.patterns);
    return {
      see: (file) => {
        if (left.size === 0) return;
        const included = this.patterns.some((p) => p.kind === "include" && p.test(file));
        for (const p of left) if ((p.kind === "include" || included) && p.test(file)) left.delete(p);
      },
      unmatched: () =>
        [...left].map(
          (p) =>
            `${p.kind} pattern "${p.glob}" matches ${p.kind === "include" ? "no file" : "none of the included files"}`,
        ),
    };
  }
}
