import type { ErrorClass } from "../errors.js";
import { header, type HeaderBag } from "./retry-after.js";

/** The `{ error: { message, type, code, param } }` body OpenAI and compatible servers answer errors with. */
export interface ProviderErrorBody {
  message: string;
  type: string | undefined;
  code: string | undefined;
  param: string | undefined;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export function parseErrorBody(text: string): ProviderErrorBody | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = (parsed as { error?: unknown } | null)?.error;
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as Record<string, unknown>;
  return { message: str(e.message) ?? "", type: str(e.type), code: str(e.code), param: str(e.param) };
}

/**
 * What an OpenAI-style error body says beyond its status: a 429 for an exhausted quota is the account's
 * (config), a 429 for a request bigger than the whole limit will never fit (permanent); neither is a rate
 * limit to wait out. A 400 invalid_json_schema refuses every request alike (config). Undefined: the
 * status decides.
 */
export function classifyErrorBody(
  status: number,
  body: ProviderErrorBody | undefined,
): ErrorClass | undefined {
  if (!body) return undefined;
  if (status === 429 && (body.code === "insufficient_quota" || body.type === "insufficient_quota"))
    return "config";
  if (status === 429 && /request too large/i.test(body.message)) return "permanent";
  if (body.code === "context_length_exceeded") return "permanent";
  // a schema the provider refuses is refused for every request: the configuration's to fix, not the item's
  if (status === 400 && body.code === "invalid_json_schema") return "config";
  return undefined;
}

/**
 * `x-should-retry: true|false`, the server's own word on retrying (OpenAI's SDKs obey it): false makes a
 * retryable class permanent, true makes a permanent one transient; config stays config.
 */
export function applyShouldRetry(cls: ErrorClass, headers: HeaderBag): ErrorClass {
  const v = header(headers, "x-should-retry")?.trim().toLowerCase();
  if (v === "false" && (cls === "transient" || cls === "rate_limited")) return "permanent";
  if (v === "true" && cls === "permanent") return "transient";
  return cls;
}
