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
]);

/** Node error codes that retrying will not fix. */
const PERMANENT_CODES = new Set(["ENOENT", "EISDIR", "ENOTDIR", "EACCES", "EPERM", "ERR_INVALID_ARG_TYPE"]);

/** Maps any thrown value to an error class; unknown errors are transient so nothing is dropped early. */
export function classifyError(e: unknown): ErrorClass {
  if (isSyncError(e)) return e.errorClass;
  if (e instanceof Error && e.name === "TimeoutError") return "transient";
  const code = typeof e === "object" && e !== null ? (e as { code?: unknown }).code : undefined;
  if (typeof code === "string") {
    if (TRANSIENT_CODES.has(code)) return "transient";
    if (PERMANENT_CODES.has(code)) return "permanent";
  }
  return "transient";
}
