import { languageOfPath } from "../../config/languages.js";
import type { DocumentChunk } from "../../ledger/types.js";
import { codeChunks, type ChunkSizes } from "./code-chunker.js";
import { grammarFor } from "./grammars.js";
import { chunkByLines, MAX_CHUNK_CHARS } from "./line-window-chunker.js";
import { parserFor } from "./parsers.js";

export const DEFAULT_SIZES: ChunkSizes = { maxChars: MAX_CHUNK_CHARS, mergeChars: 300 };

/** Files past this size are cut in line windows unparsed (generated or minified code, data). */
const MAX_PARSE_CHARS = 1_000_000;

const warned = new Set<string>();

/**
 * The chunks of a document that is a file (`metadata.path`): along its syntax when a grammar reads its
 * language and it parses cleanly, else in windows of whole lines. Undefined for a document that is no
 * file: the store cuts it by size.
 */
export async function chunkDocument(
  content: string,
  metadata: Record<string, unknown> | undefined,
  opts: { sizes?: ChunkSizes; warn?: (message: string) => void } = {},
): Promise<DocumentChunk[] | undefined> {
  const file = metadata?.path;
  if (typeof file !== "string" || file === "") return undefined;
  const sizes = opts.sizes ?? DEFAULT_SIZES;
  const language = languageOfPath(file)?.name;
  const grammar = language !== undefined ? grammarFor(language, file) : undefined;
  if (language !== undefined && grammar && content.length <= MAX_PARSE_CHARS) {
    try {
      const chunks = codeChunks(content, await parserFor(grammar), grammar, language, sizes);
      if (chunks) return chunks;
    } catch (e) {
      // a grammar that does not load, or a parser that fails: the file is still stored, in line windows
      if (!warned.has(grammar.wasm)) {
        warned.add(grammar.wasm);
        opts.warn?.(
          `code-aware chunking of ${language} failed (${String(e)}); its files are cut in line windows`,
        );
      }
    }
  }
  return chunkByLines(content, language, sizes.maxChars);
}
