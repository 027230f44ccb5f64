import type { Node, Parser } from "@vscode/tree-sitter-wasm";
import type { DocumentChunk } from "../../ledger/types.js";
import type { Grammar } from "./grammars.js";
import { lineWindows, toChunk } from "./line-window-chunker.js";
import { Lines } from "./lines.js";
import { definitionsIn, nameOf } from "./symbol-name.js";

/** How big chunks get: cut above `maxChars`; neighbours merged while together within `mergeChars`. */
export interface ChunkSizes {
  maxChars: number;
  mergeChars: number;
}

/** A run of whole lines (0-based, inclusive) and the symbols defined in it. */
interface Piece {
  first: number;
  last: number;
  symbols: string[];
  comment: boolean;
}

interface Walk {
  lines: Lines;
  grammar: Grammar;
  sizes: ChunkSizes;
}

/** The last line a node is on (a node ending at a line's column 0 ends on the line before). */
const lastRow = (n: Node): number =>
  n.endPosition.column === 0 && n.endPosition.row > n.startPosition.row
    ? n.endPosition.row - 1
    : n.endPosition.row;

const children = (n: Node): Node[] => n.namedChildren.filter((c): c is Node => c !== null);

/** The member list of a class-like definition (its body), when it has one. */
const bodyOf = (n: Node): Node | null =>
  n.childForFieldName("body") ?? children(n).find((c) => /body|declaration_list|block/.test(c.type)) ?? null;

/** Pieces of a list of sibling nodes; a definition bigger than the cap is opened into its members. */
function piecesOf(nodes: Node[], walk: Walk, prefix: string): Piece[] {
  const out: Piece[] = [];
  const end = walk.lines.count - 1;
  for (const node of nodes) {
    const first = Math.min(node.startPosition.row, end);
    const last = Math.min(lastRow(node), end);
    const defs = definitionsIn(node, walk.grammar);
    const names = defs.flatMap((d) => nameOf(d) ?? []).map((n) => prefix + n);
    const piece = { first, last, symbols: names, comment: node.type.includes("comment") };
    const body = defs.length === 1 && names.length === 1 ? bodyOf(defs[0]!) : null;
    if (body && walk.lines.chars(first, last) > walk.sizes.maxChars) {
      // a Rust impl's methods are the type's (`Raft.fmt`, not `impl fmt::Display for Raft.fmt`)
      const owner = defs[0]!.type === "impl_item" ? defs[0]!.childForFieldName("type")?.text : undefined;
      const members = piecesOf(children(body), walk, `${prefix}${owner ?? names[0]!.slice(prefix.length)}.`);
      if (members.some((m) => m.symbols.length > 0)) {
        // the class's own lines between its members (fields, docstrings) are named by the class
        for (const m of members) if (m.symbols.length === 0 && !m.comment) m.symbols = [...names];
        // the class line(s) before the first member and the closing line(s) after the last keep its name
        const [head, tail] = [members[0]!.first - 1, members[members.length - 1]!.last + 1];
        if (head >= first) out.push({ first, last: head, symbols: [...names], comment: false });
        out.push(...members);
        if (tail <= last) out.push({ first: tail, last, symbols: [...names], comment: false });
        continue;
      }
    }
    out.push(piece);
  }
  return out;
}

/** Pieces in order without overlaps (two nodes on one line share it with the first). */
function ordered(pieces: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const prev = out[out.length - 1];
    const first = prev ? Math.max(p.first, prev.last + 1) : p.first;
    if (first <= p.last) out.push({ ...p, first });
    else if (prev) prev.symbols.push(...p.symbols.filter((s) => !prev.symbols.includes(s)));
  }
  return out;
}

/** Comments right above a definition (no blank line between) go with it. */
function attachComments(pieces: Piece[]): Piece[] {
  for (let i = pieces.length - 2; i >= 0; i--) {
    const [c, d] = [pieces[i]!, pieces[i + 1]!];
    if (c.comment && d.symbols.length > 0 && d.first - c.last <= 1) {
      d.first = c.first;
      pieces.splice(i, 1);
    }
  }
  return pieces;
}

/** Every line in exactly one piece: blank lines between pieces go with the piece above. */
function cover(pieces: Piece[], count: number): Piece[] {
  if (pieces.length === 0) return [{ first: 0, last: count - 1, symbols: [], comment: false }];
  pieces[0]!.first = 0;
  for (let i = 1; i < pieces.length; i++) pieces[i - 1]!.last = pieces[i]!.first - 1;
  pieces[pieces.length - 1]!.last = count - 1;
  return pieces;
}

/** Neighbours merged while they fit together: runs of code between definitions, and tiny definitions. */
function merged(pieces: Piece[], walk: Walk): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const acc = out[out.length - 1];
    const size = acc ? walk.lines.chars(acc.first, p.last) : Infinity;
    // code between definitions, or a class's own lines, join up to the cap; anything else only while tiny,
    // and never code into the definition after it (a chunk named by a symbol starts at that symbol)
    const alike = acc !== undefined && acc.symbols.join("\n") === p.symbols.join("\n");
    const leads = acc !== undefined && acc.symbols.length === 0 && p.symbols.length > 0;
    if (acc && ((size <= walk.sizes.mergeChars && !leads) || (alike && size <= walk.sizes.maxChars))) {
      acc.last = p.last;
      acc.symbols.push(...p.symbols.filter((s) => !acc.symbols.includes(s)));
    } else out.push({ ...p, symbols: [...p.symbols] });
  }
  return out;
}

const symbolOf = (symbols: string[]): string | undefined => {
  if (symbols.length === 0) return undefined;
  const shown = symbols.slice(0, 4).join(", ");
  return symbols.length > 4 ? `${shown}, …` : shown;
};

/**
 * A source file cut along its syntax: definitions (functions, classes; a big class's methods) with their
 * leading comments, the code between them, tiny neighbours merged, anything above the cap cut in line
 * windows. Null when the file does not parse cleanly (the caller falls back to line windows).
 */
export function codeChunks(
  text: string,
  parser: Parser,
  grammar: Grammar,
  language: string,
  sizes: ChunkSizes,
): DocumentChunk[] | null {
  const tree = parser.parse(text);
  if (!tree) return null;
  try {
    if (tree.rootNode.hasError) return null;
    const lines = new Lines(text);
    if (lines.count === 0) return [];
    const walk = { lines, grammar, sizes };
    const pieces = merged(
      cover(attachComments(ordered(piecesOf(children(tree.rootNode), walk, ""))), lines.count),
      walk,
    );
    return pieces.flatMap((p) =>
      lineWindows(lines, p.first, p.last, sizes.maxChars).map(([first, last]) =>
        toChunk(lines, first, last, language, symbolOf(p.symbols)),
      ),
    );
  } finally {
    tree.delete();
  }
}
