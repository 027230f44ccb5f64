/** Why an item or an operation failed; decides whether it is retried (DESIGN.md, guarantee 5). */
export type ErrorClass = "transient" | "rate_limited" | "unavailable" | "permanent" | "config";

const BRAND = Symbol.for("syncwarden.SyncError");

export interface SyncErrorOptions {
  code: string;
  errorClass: ErrorClass;
  cause?: unknown;
}

/** Base of every error syncwarden raises; branded so it survives two copies of the package. */
export class SyncError extends Error {
  readonly [BRAND] = true;
  readonly code: string;
  readonly errorClass: ErrorClass;

  constructor(message: string, options: SyncErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SyncError";
    this.code = options.code;
    this.errorClass = options.errorClass;
  }

  get retryable(): boolean {
    return (
      this.errorClass === "transient" ||
      this.errorClass === "rate_limited" ||
      this.errorClass === "unavailable"
    );
  }
}

/** Thrown by a user's connector when retrying cannot help (the item goes DEAD at once). */
export class PermanentError extends SyncError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: "PERMANENT", errorClass: "permanent", cause });
    this.name = "PermanentError";
  }
}

/** An invalid configuration file, environment variable or connector option (exit 78). */
export class ConfigError extends SyncError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: "CONFIG", errorClass: "config", cause });
    this.name = "ConfigError";
  }
}

/** A command line that cannot be carried out as written (exit 2). */
export class UsageError extends SyncError {
  constructor(message: string) {
    super(message, { code: "USAGE", errorClass: "config" });
    this.name = "UsageError";
  }
}

export function isSyncError(e: unknown): e is SyncError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

export function isConfigError(e: unknown): e is ConfigError {
  return isSyncError(e) && e.code === "CONFIG";
}

export function isUsageError(e: unknown): e is UsageError {
  return isSyncError(e) && e.code === "USAGE";
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** An HTTP response that was not a success; `url` is already redacted. */
export class HttpError extends SyncError {
  constructor(
    message: string,
    readonly status: number,
    errorClass: ErrorClass,
    readonly url: string,
    /** A provider's hint (Retry-After, X-RateLimit-Reset) in ms from when the response arrived. */
    readonly retryAfterMs?: number,
    /** The provider's own error code from the body (OpenAI's `error.code`: context_length_exceeded, ...). */
    readonly providerCode?: string,
  ) {
    super(message, { code: `HTTP_${status}`, errorClass });
    this.name = "HttpError";
  }
}

/** A call not made because the provider's shared rate gate is closed and the run may not wait (`pause_on_rate_limit: false`). */
export class GateClosedError extends SyncError {
  constructor(
    readonly provider: string,
    /** When the gate opens, in ms from now. */
    readonly retryAfterMs: number,
  ) {
    super(
      `${provider}: rate limited until ${new Date(Date.now() + retryAfterMs).toISOString()} (the shared rate gate is closed)`,
      { code: "GATE_CLOSED", errorClass: "rate_limited" },
    );
    this.name = "GateClosedError";
  }
}

/** A call refused because the provider's circuit breaker is open (or isolated). */
export class BrokenCircuitError extends SyncError {
  constructor(
    readonly provider: string,
    /** When the breaker may let a probe through; undefined when isolated by hand. */
    readonly retryAt: number | undefined,
  ) {
    super(
      `${provider}: circuit open${retryAt === undefined ? " (isolated)" : ` until ${new Date(retryAt).toISOString()}`}`,
      { code: "CIRCUIT_OPEN", errorClass: "unavailable" },
    );
    this.name = "BrokenCircuitError";
  }
}

export function isBrokenCircuitError(e: unknown): e is BrokenCircuitError {
  return isSyncError(e) && e.code === "CIRCUIT_OPEN";
}

/** How long a rate-limited error says to wait (Retry-After, the reset, the gate), in ms; undefined without a hint. */
export function retryHintMs(e: unknown): number | undefined {
  return isSyncError(e) && (e.code.startsWith("HTTP_") || e.code === "GATE_CLOSED")
    ? (e as HttpError | GateClosedError).retryAfterMs
    : undefined;
}

export function isHttpError(e: unknown): e is HttpError {
  return isSyncError(e) && e.code.startsWith("HTTP_");
}

/** Another runner holds the job (exit 75); `holder` says who, since when. */
export class LockedError extends SyncError {
  constructor(
    message: string,
    readonly holder: { pid: number; host: string; startedAt: number; expiresAt: number },
  ) {
    super(message, { code: "LOCKED", errorClass: "unavailable" });
    this.name = "LockedError";
  }
}

export function isLockedError(e: unknown): e is LockedError {
  return isSyncError(e) && e.code === "LOCKED";
}

/**
 * A token budget (per run or per day) is spent: the call is not made. Class `unavailable`, so a degradable
 * step completes the item raw and owes it, like an open breaker.
 */
export class BudgetSpentError extends SyncError {
  constructor(message: string) {
    super(message, { code: "BUDGET_SPENT", errorClass: "unavailable" });
    this.name = "BudgetSpentError";
  }
}

/**
 * A step's permanent failure on this item that a degradable step may survive by storing the item raw
 * and owing the step (an LLM's answer malformed twice, refused, or cut at the length limit).
 */
export class DegradableError extends SyncError {
  readonly degradable = true;

  constructor(message: string, code: string, cause?: unknown) {
    super(message, { code, errorClass: "permanent", cause });
    this.name = "DegradableError";
  }
}

/** True for an error a degradable step may complete raw on, whatever its class (see DegradableError). */
export function isDegradableError(e: unknown): boolean {
  return isSyncError(e) && (e as { degradable?: unknown }).degradable === true;
}
