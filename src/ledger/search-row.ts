import type { SearchHit } from "./types.js";

/** A search row: the document and its best chunk's place (its columns are null for chunks cut by size). */
export interface SearchRow extends Omit<SearchHit, "path" | "line" | "endLine" | "symbol" | "language"> {
  path: unknown;
  start_line: number | null;
  end_line: number | null;
  symbol: string | null;
  language: string | null;
}

/** A hit with `path:line symbol` when its best chunk knows its lines. */
export function toHit(r: SearchRow): SearchHit {
  const { path, start_line, end_line, symbol, language, ...hit } = r;
  if (start_line === null) return hit;
  return {
    ...hit,
    path: typeof path === "string" ? path : hit.key,
    line: start_line,
    ...(end_line !== null ? { endLine: end_line } : {}),
    ...(symbol !== null ? { symbol } : {}),
    ...(language !== null ? { language } : {}),
  };
}
