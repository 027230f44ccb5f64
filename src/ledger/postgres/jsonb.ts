/** A NUL, or half of a surrogate pair without its other half: text JSONB refuses (SQLite's TEXT keeps it). */
// eslint-disable-next-line no-control-regex -- NUL is what it looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A value as JSONB text for a `$n::jsonb` parameter: strings lose what PostgreSQL cannot store (replaced
 * by U+FFFD), so a result quoting binary text (an error message, a file's first bytes) is still written.
 * Object keys are kept as they are. Undefined stays undefined (NULL), as JSON.stringify gives it.
 */
export function toJsonb(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "string" ? v.replace(UNSTORABLE, "\uFFFD") : v,
  );
}
