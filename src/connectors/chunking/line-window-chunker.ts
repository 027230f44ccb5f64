import type { DocumentChunk } from "../../ledger/types.js";
import { Lines } from "./lines.js";

/** The size a chunk is cut at, as the ledger's plain chunking uses (characters). */
export const MAX_CHUNK_CHARS = 4000;

/**
 * Lines first..last cut into windows of whole lines of at most `maxChars` each (a single longer line is a
 * window of its own): inclusive [first, last] pairs, in order, covering every line once.
 */
export function lineWindows(lines: Lines, first: number, last: number, maxChars: number): [number, number][] {
  const windows: [number, number][] = [];
  let start = first;
  for (let line = first; line <= last; line++) {
    if (line > start && lines.chars(start, line) > maxChars) {
      windows.push([start, line - 1]);
      start = line;
    }
  }
  if (start <= last) windows.push([start, last]);
  return windows;
}

/** A chunk of lines first..last (0-based) as stored: 1-based line numbers, the symbol when there is one. */
export function toChunk(
  lines: Lines,
  first: number,
  last: number,
  language: string | undefined,
  symbol: string | undefined,
): DocumentChunk {
  return {
    content: lines.slice(first, last),
    startLine: first + 1,
    endLine: last + 1,
    ...(symbol !== undefined ? { symbol } : {}),
    ...(language !== undefined ? { language } : {}),
  };
}

/** A text in windows of whole lines, for files no grammar parses (or whose parse failed). */
export function chunkByLines(
  text: string,
  language: string | undefined,
  maxChars = MAX_CHUNK_CHARS,
): DocumentChunk[] {
  const lines = new Lines(text);
  return lineWindows(lines, 0, lines.count - 1, maxChars).map(([first, last]) =>
    toChunk(lines, first, last, language, undefined),
  );
}
