import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, type Node } from "yaml";

/**
 * `file:line:col` of a key path in a configuration file (the value's node, else its nearest existing parent),
 * for errors found after loading: they are rare, so the file is read again rather than kept.
 */
export function keyPosition(file: string, keyPath: readonly (string | number)[]): string {
  try {
    const lines = new LineCounter();
    const doc = parseDocument(readFileSync(file, "utf8"), { lineCounter: lines });
    for (let n = keyPath.length; n >= 0; n--) {
      const node = doc.getIn(keyPath.slice(0, n), true) as Node | undefined;
      if (!node?.range) continue;
      const { line, col } = lines.linePos(node.range[0]);
      return `${file}:${line}:${col}`;
    }
  } catch {
    // the file changed or went away since it was loaded: name the file alone
  }
  return file;
}
