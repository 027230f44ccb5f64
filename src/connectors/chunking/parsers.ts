import { createRequire } from "node:module";
import path from "node:path";
import type * as TreeSitter from "@vscode/tree-sitter-wasm";
import type { Grammar } from "./grammars.js";

// the package is a UMD bundle (CommonJS to Node), so it is required rather than imported
const require = createRequire(import.meta.url);
const PACKAGE = "@vscode/tree-sitter-wasm";

let runtime: Promise<typeof TreeSitter> | undefined;
const parsers = new Map<string, Promise<TreeSitter.Parser>>();

/** The tree-sitter runtime, initialised once per process on first use. */
function treeSitter(): Promise<typeof TreeSitter> {
  runtime ??= (async () => {
    const ts = require(PACKAGE) as typeof TreeSitter;
    await ts.Parser.init();
    return ts;
  })();
  return runtime;
}

/** A parser for a grammar, its wasm loaded once per process on first use (a failed load stays failed). */
export function parserFor(grammar: Grammar): Promise<TreeSitter.Parser> {
  let parser = parsers.get(grammar.wasm);
  if (!parser) {
    parser = (async () => {
      const ts = await treeSitter();
      const language = await ts.Language.load(
        path.join(path.dirname(require.resolve(PACKAGE)), grammar.wasm),
      );
      return new ts.Parser().setLanguage(language);
    })();
    parsers.set(grammar.wasm, parser);
  }
  return parser;
}
