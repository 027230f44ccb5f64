import { HttpError } from "../errors.js";
import { classifyStatus } from "./classify.js";
import type { ProviderPolicy } from "./policy.js";
import { redact } from "../config/secrets.js";
import { applyShouldRetry, classifyErrorBody, parseErrorBody } from "./provider-errors.js";
import { parseRateLimit, retryAfterHint } from "./retry-after.js";
import { exhaustedWaitMs, parseUsageLimits } from "./usage-limits.js";
import type { UsageTicket } from "./usage-pacer.js";
import { isSecondaryLimit, SecondaryBackoff } from "./secondary-limit.js";

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: unknown;
  url: string;
}

/** Per-request extras: an ETag to send as If-None-Match (a 304 then answers with no body). */
export interface RequestOptions {
  ifNoneMatch?: string;
  /**
   * The call's estimated tokens (an LLM's prompt and completion): it is paced by the provider's token
   * and request buckets, and the answer's `usage.total_tokens` reconciles the estimate.
   */
  tokens?: number;
}

export interface HttpClientOptions {
  baseUrl?: string;
  headers?: Readonly<Record<string, string>>;
  /** What a refusal of the credentials tells the user to check (default: the provider's headers). */
  credentialsHint?: string;
}

/** JSON over Node's fetch, every call through the provider's policy; errors and messages never carry secrets. */
export class HttpClient {
  private readonly secondary = new SecondaryBackoff();

  constructor(
    readonly policy: ProviderPolicy,
    private readonly o: HttpClientOptions = {},
  ) {}

  resolve(url: string): string {
    return this.o.baseUrl === undefined
      ? url
      : new URL(url, this.o.baseUrl.endsWith("/") ? this.o.baseUrl : this.o.baseUrl + "/").href;
  }

  /** A GET; with `ifNoneMatch`, a 304 (status 304, body null) means the cached representation is current. */
  getJson(url: string, signal?: AbortSignal, options?: RequestOptions): Promise<HttpResponse> {
    return this.request("GET", url, undefined, signal, options);
  }

  postJson(
    url: string,
    body: unknown,
    signal?: AbortSignal,
    options?: RequestOptions,
  ): Promise<HttpResponse> {
    return this.request("POST", url, body, signal, options);
  }

  request(
    method: string,
    url: string,
    body: unknown,
    signal?: AbortSignal,
    options: RequestOptions = {},
  ): Promise<HttpResponse> {
    return this.policy.execute(
      (sig, ticket) => this.send(method, url, body, sig, options, true, ticket),
      signal,
      options.tokens,
    );
  }

  /**
   * One GET outside the policy (no gate, breaker or retry, the timeout still applies): for reads that
   * cost the provider nothing and must answer while its gate is closed (GitHub's /rate_limit).
   */
  getOnce(url: string, signal?: AbortSignal): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(this.policy.options.timeoutMs);
    return this.send("GET", url, undefined, signal ? AbortSignal.any([signal, timeout]) : timeout, {}, false);
  }

  private async send(
    method: string,
    url: string,
    body: unknown,
    sig: AbortSignal,
    options: RequestOptions,
    counted: boolean,
    ticket?: UsageTicket,
  ): Promise<HttpResponse> {
    const target = this.resolve(url);
    const shown = redact(target);
    // when a counted request left: the rate gate learns where windows that start at a request end
    const sentAt = counted ? Date.now() : undefined;
    const res = await fetch(target, {
      method,
      signal: sig,
      headers: {
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...this.o.headers,
        ...(options.ifNoneMatch === undefined ? {} : { "if-none-match": options.ifNoneMatch }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const now = Date.now();
    if (res.status === 304 && options.ifNoneMatch !== undefined) {
      await this.policy.gate.observe(res.headers, this.policy.othersInFlight, sentAt);
      return { status: 304, headers: res.headers, body: null, url: target };
    }
    if (!res.ok) {
      const limit = parseRateLimit(res.headers, now);
      const usage = parseUsageLimits(res.headers);
      const secondary = limit?.remaining !== 0 && isSecondaryLimit(res.status, res.headers, text);
      const errorBody = parseErrorBody(text);
      const overridden = this.policy.options.classify[res.status];
      // the configuration's `classify:` wins; then what the body says (quota, too large), then the status
      const byBody = overridden === undefined ? classifyErrorBody(res.status, errorBody) : undefined;
      const cls = applyShouldRetry(
        byBody ??
          (secondary
            ? "rate_limited"
            : classifyStatus(res.status, limit?.remaining === 0, this.policy.options.classify)),
        res.headers,
      );
      const hint =
        retryAfterHint(res.headers, now) ??
        (limit?.remaining === 0 && limit.resetAt !== undefined && limit.resetAt > now
          ? limit.resetAt - now
          : undefined) ??
        (res.status === 429 ? exhaustedWaitMs(usage) : undefined) ??
        (secondary ? this.secondary.next(this.policy.options.rateLimitWaitMs) : undefined);
      // a refusal's x-ratelimit-* still teach the limits, and what remains
      if (options.tokens !== undefined) await this.policy.usage.settle(undefined, usage);
      const detail = redact(text.slice(0, 200).replace(/\s+/g, " ").trim());
      const what = `${method} ${shown} → ${res.status}${detail ? `: ${detail}` : ""}`;
      throw new HttpError(
        cls === "config" && (res.status === 401 || res.status === 403)
          ? `provider ${this.policy.name} refused the credentials (HTTP ${res.status}; check ${this.o.credentialsHint ?? `providers.${this.policy.name}.headers and the variables they use`}): ${what}`
          : what,
        res.status,
        cls,
        shown,
        hint,
        errorBody?.code,
      );
    }
    this.secondary.reset();
    await this.policy.gate.observe(res.headers, this.policy.othersInFlight, sentAt);
    let parsed: unknown;
    try {
      parsed = text === "" ? null : JSON.parse(text);
    } catch {
      throw new SyntaxError(`${method} ${shown}: malformed JSON in the response (${text.length} bytes)`);
    }
    if (ticket || options.tokens !== undefined) {
      const used = (parsed as { usage?: { total_tokens?: unknown } } | null)?.usage?.total_tokens;
      await this.policy.usage.settle(
        ticket,
        parseUsageLimits(res.headers),
        typeof used === "number" ? used : undefined,
      );
    }
    return { status: res.status, headers: res.headers, body: parsed, url: target };
  }
}
