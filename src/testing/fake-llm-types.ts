/** What the fake OpenAI-compatible server can be told to do instead of answering well. */
export type LlmFault =
  /** 429 rate_limit_exceeded; with `retryAfter` (s) and/or `retryAfterMs` headers, or without either. */
  | { kind: "rate_limit"; retryAfter?: number; retryAfterMs?: number }
  /** 429 insufficient_quota: the account's money is spent. */
  | { kind: "insufficient_quota" }
  /** 429 "Request too large": the request is bigger than the whole tokens-per-minute limit. */
  | { kind: "too_large" }
  /** 500 or 503, with `x-should-retry` when given. */
  | { kind: "server_error"; status: 500 | 503; shouldRetry?: boolean }
  /** No answer until the client gives up (or the server closes). */
  | { kind: "hang" }
  /** 200 whose message content is not JSON. */
  | { kind: "malformed" }
  /** 200 whose content is JSON of the wrong shape. */
  | { kind: "schema_violation" }
  /** 200 cut at the token limit: finish_reason "length". */
  | { kind: "length" }
  /** 200 with message.refusal and no content. */
  | { kind: "refusal" }
  /** 400 context_length_exceeded whatever the prompt's size. */
  | { kind: "context_length" };

/** One chat completion request as the fake saw it. */
export interface LlmRequestInfo {
  model: string;
  /** The user message (the episode's text). */
  user: string;
  promptTokens: number;
  responseFormat: string | undefined;
}

export interface FakeLlmOptions {
  /** Enforced per-minute limits (continuously refilled), with x-ratelimit-* headers on every answer. */
  limits?: { requestsPerMinute?: number; tokensPerMinute?: number };
  /** 429s for a limit carry retry-after / retry-after-ms (default true). */
  limitHints?: boolean;
  /** Prompts of more tokens than this are refused with 400 context_length_exceeded. */
  contextTokens?: number;
  /** false: answer 400 to response_format json_schema, as servers without it do (default true). */
  jsonSchema?: boolean;
  /** Faults for the next requests, one each, in order (shifted as they are used). */
  faults?: LlmFault[];
  /** A fault for a request (checked after the queue), or undefined to answer it. */
  fault?: (req: LlmRequestInfo, n: number) => LlmFault | undefined;
  /** Delay before each answer, ms (default 0). */
  latencyMs?: number;
  port?: number;
}

export interface FakeLlmStats {
  requests: number;
  /** 200 answers. */
  completions: number;
  /** 429 answers of every kind. */
  rateLimited: number;
  byStatus: Record<number, number>;
  /** Tokens of answered requests (prompt + completion), as usage reported them. */
  promptTokens: number;
  completionTokens: number;
  /** Most requests being answered at once. */
  maxConcurrent: number;
  /** Epoch ms of the first request and of the latest 200 answer (0 before any). */
  firstRequestAt: number;
  lastCompletionAt: number;
}

export interface FakeLlm {
  url: string;
  readonly stats: FakeLlmStats;
  /** Every request's user message, in arrival order (answered or not). */
  readonly prompts: string[];
  /** The Authorization header of the latest request. */
  readonly lastAuthorization: string | undefined;
  /** On: every request is answered 503 (the provider is down). */
  down: boolean;
  faults: LlmFault[];
  fault: FakeLlmOptions["fault"];
  jsonSchema: boolean;
  close(): Promise<void>;
}
