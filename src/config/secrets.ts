/*
 * Secrets and their removal from everything that leaves the process.
 *
 * A value is a secret when it came from `${VAR}` interpolation in the configuration, when it is the
 * value of a credential header (Authorization, X-Api-Key, …), or when a surface registers it (the MCP
 * bearer token). `redact()` removes every registered value (as written, URL-encoded and JSON-escaped)
 * and, for what nobody registered, well-known credential shapes. Errors stored on items, run results,
 * events, log lines, CLI output and MCP results pass through it.
 */

/** Shorter values are too likely to be ordinary words to scrub everywhere they appear. */
export const MIN_SECRET_LENGTH = 4;

const MASK = "***";
const SECRET_PARAMS =
  /([?&](?:key|api_key|apikey|token|access_token|secret|password|sig|signature)=)[^&#\s]*/gi;
// the credential has a digit, a capital or a symbol: "token budget" in a sentence is no credential
const BEARER = /\b(Bearer|Basic|token)\s+(?=[a-z]*[A-Z0-9._~+/=-])[A-Za-z0-9._~+/=-]{6,}/g;
const USERINFO = /(\w+:\/\/)[^/@\s]+@/g;
const KEY_LIKE = /\b(sk|ghp|gho|github_pat|xox[abp])[-_][A-Za-z0-9_-]{8,}/g;
/** Header names whose values are credentials even when written literally in the configuration. */
const CREDENTIAL_HEADER = /auth|key|token|secret|password|cookie|session|signature/i;
const INTERPOLATION = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

const values = new Set<string>();
let pattern: RegExp | undefined;

/** Registers a secret value: from now on `redact()` removes it wherever it appears. */
export function registerSecret(value: string | undefined): void {
  if (value === undefined) return;
  const trimmed = value.trim();
  // "Bearer abc…": the credential after the scheme is a secret of its own
  const credential = /^(?:Bearer|Basic|Token|Bot)\s+(.+)$/i.exec(trimmed)?.[1];
  for (const v of [trimmed, credential]) {
    if (v === undefined || v.length < MIN_SECRET_LENGTH) continue;
    for (const form of [v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)]) {
      if (!values.has(form)) {
        values.add(form);
        pattern = undefined;
      }
    }
  }
}

/** How many secret forms are registered (for doctor-style reports and tests). */
export function secretCount(): number {
  return values.size;
}

/**
 * `${VAR}` in `value`, from `env`, each substituted value registered as a secret; `missing` is called
 * (and should throw) for a variable that is not set. A credential header's whole value is registered too.
 */
export function interpolateSecret(
  value: string,
  env: NodeJS.ProcessEnv,
  missing: (name: string) => never,
  header?: string,
): string {
  const out = value.replace(INTERPOLATION, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) return missing(name);
    registerSecret(v);
    return v;
  });
  if (header !== undefined && CREDENTIAL_HEADER.test(header)) registerSecret(out);
  return out;
}

/** Registers the secrets a provider's headers hold (interpolated values, credential headers) without building it. */
export function registerHeaderSecrets(
  headers: Readonly<Record<string, string>>,
  env: NodeJS.ProcessEnv,
): void {
  for (const [name, value] of Object.entries(headers)) interpolateSecret(value, env, () => "" as never, name);
}

/** Registers a source's credential (a github source's `token`, as written or from `${VAR}`) without building it. */
export function registerSourceSecrets(source: object, env: NodeJS.ProcessEnv): void {
  const token = (source as { token?: unknown }).token;
  if (typeof token === "string") interpolateSecret(token, env, () => "" as never, "token");
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function secretsPattern(): RegExp | undefined {
  if (values.size === 0) return undefined;
  // longest first, so "Bearer abc" goes before "abc" can leave "Bearer ***" behind
  pattern ??= new RegExp(
    [...values]
      .sort((a, b) => b.length - a.length)
      .map(escape)
      .join("|"),
    "g",
  );
  return pattern;
}

/** Removes credentials from text meant for errors, events, logs and output: registered values, then known shapes. */
export function redact(text: string): string {
  const known = secretsPattern();
  return (known ? text.replace(known, MASK) : text)
    .replace(SECRET_PARAMS, `$1${MASK}`)
    .replace(BEARER, `$1 ${MASK}`)
    .replace(USERINFO, `$1${MASK}@`)
    .replace(KEY_LIKE, `$1-${MASK}`);
}

/** `value` as JSON text with every string in it redacted (whole strings, so the JSON stays valid). */
export function redactJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "string" ? redact(v) : v), indent);
}

/** A line that may be JSON (a pino log line): redacted string by string when it parses, else as text. */
export function redactJsonLine(line: string): string {
  try {
    return redactJson(JSON.parse(line)) + (line.endsWith("\n") ? "\n" : "");
  } catch {
    return redact(line);
  }
}
