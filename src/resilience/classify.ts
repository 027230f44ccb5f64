import { isSyncError, type ErrorClass } from "../errors.js";

/** Node error codes that mean "try again later". */
const TRANSIENT_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EBUSY",
  "EAGAIN",
  "EMFILE",
  "ENFILE",
  "SQLITE_BUSY",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Node error codes that retrying will not fix. */
const PERMANENT_CODES = new Set(["ENOENT", "EISDIR", "ENOTDIR", "EACCES", "EPERM", "ERR_INVALID_ARG_TYPE"]);

/** The default HTTP status table; a provider may override entries (`classify:` in its config). */
export const HTTP_STATUS_CLASSES: Readonly<Record<number, ErrorClass>> = {
  400: "permanent",
  401: "config",
  403: "config",
  404: "permanent",
  408: "transient",
  409: "transient",
  410: "permanent",
  422: "permanent",
  425: "transient",
  429: "rate_limited",
  500: "transient",
  502: "transient",
  503: "transient",
  504: "transient",
};

/** Class of an HTTP status: the override table first, then the default; 5xx transient, other 4xx permanent. */
export function classifyStatus(
  status: number,
  rateLimitExhausted: boolean,
  overrides: Readonly<Record<number, ErrorClass>> = {},
): ErrorClass {
  const custom = overrides[status];
  if (custom) return custom;
  // GitHub and others say "rate limited" with a 403 and X-RateLimit-Remaining: 0
  if (status === 403 && rateLimitExhausted) return "rate_limited";
  return HTTP_STATUS_CLASSES[status] ?? (status >= 500 ? "transient" : "permanent");
}

function codeOf(e: unknown): string | undefined {
  if (typeof e !== "object" || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // fetch wraps socket errors: TypeError("fetch failed", { cause: { code: "ECONNRESET" } })
  return codeOf((e as { cause?: unknown }).cause);
}

const asStatus = (v: unknown): number | undefined => {
  const n = typeof v === "string" && /^\d{3}$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) && n >= 400 && n <= 599 ? n : undefined;
};

/**
 * The HTTP status an SDK's error carries: `status` (OpenAI, Anthropic, Octokit), `statusCode` (AWS,
 * got), `response.status` (axios) or `response.statusCode`; on the error or its causes.
 */
export function statusOf(e: unknown, depth = 0): number | undefined {
  if (typeof e !== "object" || e === null || depth > 4) return undefined;
  const o = e as { status?: unknown; statusCode?: unknown; response?: unknown; cause?: unknown };
  const response = typeof o.response === "object" && o.response !== null ? o.response : {};
  const r = response as { status?: unknown; statusCode?: unknown };
  return (
    asStatus(o.status) ??
    asStatus(o.statusCode) ??
    asStatus(r.status) ??
    asStatus(r.statusCode) ??
    statusOf(o.cause, depth + 1)
  );
}

/**
 * Maps any thrown value to an error class; an SDK's error with an HTTP status is classed as that
 * response would be (`overrides`: the provider's `classify:` table). Unknown errors are transient so
 * nothing is dropped early.
 */
export function classifyError(e: unknown, overrides: Readonly<Record<number, ErrorClass>> = {}): ErrorClass {
  if (isSyncError(e)) return e.errorClass;
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return "transient";
  if (e instanceof SyntaxError) return "transient"; // a malformed body is usually a truncated response
  const status = statusOf(e);
  if (status !== undefined) return classifyStatus(status, false, overrides);
  const code = codeOf(e);
  if (code !== undefined) {
    if (TRANSIENT_CODES.has(code)) return "transient";
    if (PERMANENT_CODES.has(code)) return "permanent";
  }
  return "transient";
}
