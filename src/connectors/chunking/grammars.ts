/**
 * The languages the code chunker parses: which prebuilt tree-sitter grammar reads each (by the language
 * names of config/languages.ts) and which syntax nodes are definitions, i.e. chunks named by a symbol.
 */
export interface Grammar {
  /** The grammar's wasm file in @vscode/tree-sitter-wasm. */
  wasm: string;
  /** Node types that define a named thing: a function, class, method, type. */
  definitions: ReadonlySet<string>;
}

const grammar = (wasm: string, definitions: string[]): Grammar => ({
  wasm: `tree-sitter-${wasm}.wasm`,
  definitions: new Set(definitions),
});

const SCRIPT = [
  "function_declaration",
  "generator_function_declaration",
  "class_declaration",
  "method_definition",
  "variable_declarator",
];
const TYPESCRIPT = [
  ...SCRIPT,
  "abstract_class_declaration",
  "interface_declaration",
  "type_alias_declaration",
  "enum_declaration",
  "internal_module",
  "module",
  "function_signature",
  "abstract_method_signature",
];
const C_FAMILY = [
  "function_definition",
  "class_specifier",
  "struct_specifier",
  "union_specifier",
  "enum_specifier",
  "namespace_definition",
];

const GRAMMARS: Record<string, Grammar> = {
  python: grammar("python", ["function_definition", "class_definition"]),
  typescript: grammar("typescript", TYPESCRIPT),
  tsx: grammar("tsx", TYPESCRIPT),
  javascript: grammar("javascript", SCRIPT),
  go: grammar("go", ["function_declaration", "method_declaration", "type_spec", "type_alias"]),
  rust: grammar("rust", [
    "function_item",
    "struct_item",
    "enum_item",
    "union_item",
    "trait_item",
    "impl_item",
    "mod_item",
    "macro_definition",
    "type_item",
  ]),
  java: grammar("java", [
    "class_declaration",
    "interface_declaration",
    "enum_declaration",
    "record_declaration",
    "annotation_type_declaration",
    "method_declaration",
    "constructor_declaration",
  ]),
  csharp: grammar("c-sharp", [
    "namespace_declaration",
    "class_declaration",
    "struct_declaration",
    "interface_declaration",
    "enum_declaration",
    "record_declaration",
    "method_declaration",
    "constructor_declaration",
    "property_declaration",
  ]),
  cpp: grammar("cpp", C_FAMILY),
  c: grammar("cpp", C_FAMILY),
  ruby: grammar("ruby", ["method", "singleton_method", "class", "module", "singleton_class"]),
  php: grammar("php", [
    "function_definition",
    "class_declaration",
    "interface_declaration",
    "trait_declaration",
    "enum_declaration",
    "method_declaration",
    "namespace_definition",
  ]),
  shell: grammar("bash", ["function_definition"]),
};

/** The grammar for a language name of config/languages.ts (`.tsx` files read with the tsx grammar). */
export function grammarFor(language: string, file: string): Grammar | undefined {
  if (language === "typescript" && file.toLowerCase().endsWith(".tsx")) return GRAMMARS.tsx;
  return Object.hasOwn(GRAMMARS, language) ? GRAMMARS[language] : undefined;
}
