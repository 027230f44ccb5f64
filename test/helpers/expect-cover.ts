import { expect } from "vitest";
import type { DocumentChunk } from "../../src/ledger/types.js";

/** The chunks are the file: joined they equal it, and their line ranges cover every line exactly once, in order. */
export function expectCover(chunks: DocumentChunk[], text: string): void {
  expect(chunks.map((c) => c.content).join("")).toBe(text);
  const lines = text === "" ? 0 : text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
  let next = 1;
  for (const c of chunks) {
    expect(c.startLine).toBe(next);
    expect(c.endLine).toBeGreaterThanOrEqual(c.startLine);
    expect(c.content.split("\n").length - (c.content.endsWith("\n") ? 1 : 0)).toBe(
      c.endLine - c.startLine + 1,
    );
    next = c.endLine + 1;
  }
  expect(next - 1).toBe(lines);
}
