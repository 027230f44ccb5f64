import type { ExtractedPart } from "./llm-answer.js";

/** Texts shorter than this are not split further (a context limit that small is a configuration problem). */
export const MIN_SPLIT_CHARS = 200;

/**
 * An episode's text in two halves for a model whose context it overflows: at the "## User" turn
 * boundary nearest the middle when there is one, else at the line break nearest it, else in the middle.
 */
export function splitHalves(text: string): [string, string] | undefined {
  if (text.length < MIN_SPLIT_CHARS) return undefined;
  const middle = text.length / 2;
  const nearest = (re: RegExp): number | undefined => {
    let best: number | undefined;
    for (const m of text.matchAll(re)) {
      const at = m.index;
      if (
        at > 0 &&
        at < text.length &&
        (best === undefined || Math.abs(at - middle) < Math.abs(best - middle))
      )
        best = at;
    }
    // a boundary in the outer eighths leaves one half nearly as big as the whole
    return best !== undefined && Math.abs(best - middle) < text.length * 0.375 ? best : undefined;
  };
  const at = nearest(/^## User\b/gm) ?? nearest(/\n/g) ?? Math.floor(middle);
  return [text.slice(0, at), text.slice(at)];
}

const norm = (s: string): string => s.trim().toLowerCase().replace(/\s+/g, " ");

/** Two halves' extractions as one: summaries joined, entities deduplicated by normalised name and type, facts concatenated. */
export function mergeParts(a: ExtractedPart, b: ExtractedPart): ExtractedPart {
  const entities = new Map<string, ExtractedPart["entities"][number]>();
  for (const e of [...a.entities, ...b.entities]) {
    const key = `${norm(e.type)}\u0000${norm(e.name)}`;
    if (!entities.has(key)) entities.set(key, e);
  }
  return {
    summary: [a.summary, b.summary].filter((s) => s.trim() !== "").join(" "),
    entities: [...entities.values()],
    facts: [...a.facts, ...b.facts],
  };
}
