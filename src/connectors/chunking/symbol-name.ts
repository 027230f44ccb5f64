import type { Node } from "@vscode/tree-sitter-wasm";
import type { Grammar } from "./grammars.js";

/** Values that make `const name = …` a definition (a function or a class bound to a name). */
const FUNCTION_VALUES = new Set([
  "arrow_function",
  "function_expression",
  "function",
  "generator_function",
  "class",
]);

const clean = (s: string): string => {
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 120 ? `${one.slice(0, 119)}…` : one;
};

/** The innermost declarator's text: `C::m` of `void C::m(int a)`, `f` of `int *f(void)`. */
function declaratorName(node: Node): string {
  let at = node;
  for (let next = at.childForFieldName("declarator"); next; next = at.childForFieldName("declarator"))
    at = next;
  return at.text.replace(/\(.*$/s, "").replace(/^[\s*&]+/, "");
}

/** The name a definition node gives, or undefined when it names nothing a reader would look for. */
export function nameOf(node: Node): string | undefined {
  if (node.type === "variable_declarator") {
    const value = node.childForFieldName("value");
    return value && FUNCTION_VALUES.has(value.type)
      ? clean(node.childForFieldName("name")?.text ?? "")
      : undefined;
  }
  if (node.type === "impl_item") {
    const trait = node.childForFieldName("trait");
    const type = node.childForFieldName("type")?.text ?? "";
    return clean(`impl ${trait ? `${trait.text} for ` : ""}${type}`);
  }
  const name = node.childForFieldName("name");
  const receiver = node.childForFieldName("receiver");
  if (name && receiver) {
    // a Go method: the receiver's type names it with the method (`Server.Start`)
    const type = receiver.descendantsOfType("type_identifier")[0]?.text;
    return clean(type ? `${type}.${name.text}` : name.text);
  }
  if (name) return clean(name.text) || undefined;
  if (node.childForFieldName("declarator")) return clean(declaratorName(node)) || undefined;
  return undefined;
}

/**
 * The definition nodes a top-level node holds: itself, or those one or two levels in (an `export`,
 * a decorator, a template, a `type (…)` group wraps them).
 */
export function definitionsIn(node: Node, grammar: Grammar): Node[] {
  if (grammar.definitions.has(node.type)) return [node];
  let level = node.namedChildren.filter((c): c is Node => c !== null);
  for (let depth = 0; depth < 2; depth++) {
    const found = level.filter((c) => grammar.definitions.has(c.type));
    if (found.length > 0) return found;
    level = level.flatMap((c) => c.namedChildren.filter((g): g is Node => g !== null));
  }
  return [];
}
