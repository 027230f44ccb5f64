/**
 * The normalised form of an entity's name, the key entities are deduplicated by (with their type):
 * NFKC, lower-case, trimmed, inner spaces collapsed, surrounding quotes or backticks and a trailing "()"
 * taken off — so `Zod`, `zod` and "`zod`" are one entity, and `parse()` is `parse`.
 */
export function normaliseName(name: string): string {
  let s = name.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
  for (let before = ""; before !== s;) {
    before = s;
    s = s
      .replace(/^(["'`‘’“”])(.*)\1$/su, "$2")
      .replace(/^[“‘](.*)[”’]$/su, "$1")
      .replace(/\(\)$/u, "")
      .trim();
  }
  return s;
}

/** A relation's stored form: lower-case words joined by `_` (`Depends On`, `depends-on` → `depends_on`). */
export function normaliseRelation(relation: string): string {
  return relation
    .normalize("NFKC")
    .toLowerCase()
    .trim()
    .replace(/[\s-]+/g, "_");
}
