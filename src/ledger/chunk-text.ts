const CHUNK_CHARS = 4000;

/**
 * Splits text into chunks of about CHUNK_CHARS, cutting at a line break where one is near: how a document
 * store cuts a write that came without chunks (every ledger the same, so search finds the same pieces).
 */
export function chunkText(text: string): string[] {
  if (text.length <= CHUNK_CHARS) return [text];
  const chunks: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + CHUNK_CHARS);
    if (end < text.length) {
      const nl = text.lastIndexOf("\n", end);
      if (nl > start + CHUNK_CHARS / 2) end = nl + 1;
    }
    chunks.push(text.slice(start, end));
    start = end;
  }
  return chunks;
}
