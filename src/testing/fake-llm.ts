/**
 * A loopback fake of an OpenAI-compatible chat completions server (POST /v1/chat/completions) for
 * tests and benchmarks: deterministic structured output derived from the prompt (fake-llm-extract),
 * real `usage` and x-ratelimit-* headers, enforced per-minute limits (fake-llm-limits), and faults
 * (fake-llm-types): rate limits with and without hints, quota, 5xx, hangs, malformed or cut answers,
 * refusals, context length, a server without json_schema.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { readBody } from "./fault-embeddings.js";
import { fakeExtract } from "./fake-llm-extract.js";
import { FakeLlmLimits } from "./fake-llm-limits.js";
import { strictSchemaProblem } from "./fake-llm-schema.js";
import type { FakeLlm, FakeLlmOptions, FakeLlmStats, LlmFault, LlmRequestInfo } from "./fake-llm-types.js";

export type * from "./fake-llm-types.js";

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

const tokensOf = (chars: number): number => Math.ceil(chars / 4);

function error(
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
): Answer {
  return { status, body: { error: { message, type, param, code } } };
}

interface ChatRequest {
  model: string;
  messages: { role: string; content: string }[];
  maxTokens: number | undefined;
  format: { type?: string; json_schema?: { name?: string; strict?: boolean; schema?: unknown } } | undefined;
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((p) => (typeof (p as { text?: unknown }).text === "string" ? (p as { text: string }).text : ""))
      .join("");
  return "";
}

function parseRequest(raw: string | undefined): ChatRequest | Answer {
  if (raw === undefined) return error(413, "request body too large", "invalid_request_error", null);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return error(400, "We could not parse the JSON body of your request.", "invalid_request_error", null);
  }
  if (typeof body.model !== "string" || body.model === "")
    return error(400, "you must provide a model parameter", "invalid_request_error", null, "model");
  if (!Array.isArray(body.messages) || body.messages.length === 0)
    return error(400, "'messages' must be a non-empty array", "invalid_request_error", null, "messages");
  const messages = (body.messages as { role?: unknown; content?: unknown }[]).map((m) => ({
    role: String(m.role),
    content: textOf(m.content),
  }));
  const max = body.max_completion_tokens ?? body.max_tokens;
  return {
    model: body.model,
    messages,
    maxTokens: typeof max === "number" ? max : undefined,
    format: body.response_format as ChatRequest["format"],
  };
}

class FakeLlmServer implements FakeLlm {
  url = "";
  readonly stats: FakeLlmStats = {
    requests: 0,
    completions: 0,
    rateLimited: 0,
    byStatus: {},
    promptTokens: 0,
    completionTokens: 0,
    maxConcurrent: 0,
    firstRequestAt: 0,
    lastCompletionAt: 0,
  };
  readonly prompts: string[] = [];
  lastAuthorization: string | undefined;
  down = false;
  faults: LlmFault[];
  fault: FakeLlmOptions["fault"];
  jsonSchema: boolean;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly limits: FakeLlmLimits | undefined;
  private concurrent = 0;

  constructor(private readonly o: FakeLlmOptions) {
    this.faults = [...(o.faults ?? [])];
    this.fault = o.fault;
    this.jsonSchema = o.jsonSchema ?? true;
    this.limits = o.limits ? new FakeLlmLimits(o.limits) : undefined;
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.o.port ?? 0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (
      req.method !== "POST" ||
      !/^\/(v1\/)?chat\/completions\/?$/.test(new URL(req.url ?? "/", "http://x").pathname)
    ) {
      this.send(
        res,
        error(404, `no route for ${req.method} ${req.url}`, "invalid_request_error", "unknown_url"),
      );
      return;
    }
    this.stats.requests++;
    this.stats.firstRequestAt ||= Date.now();
    this.lastAuthorization = req.headers.authorization;
    this.concurrent++;
    this.stats.maxConcurrent = Math.max(this.stats.maxConcurrent, this.concurrent);
    try {
      const answer = await this.answer(raw, res);
      if (answer) this.send(res, answer);
    } finally {
      this.concurrent--;
    }
  }

  private send(res: http.ServerResponse, a: Answer): void {
    this.stats.byStatus[a.status] = (this.stats.byStatus[a.status] ?? 0) + 1;
    if (a.status === 429) this.stats.rateLimited++;
    if (res.destroyed) return;
    res.writeHead(a.status, { "content-type": "application/json", ...a.headers });
    res.end(JSON.stringify(a.body));
  }

  /** The answer to one request; undefined when it hangs (the client's timeout or close() ends it). */
  private async answer(raw: string | undefined, res: http.ServerResponse): Promise<Answer | undefined> {
    const parsed = parseRequest(raw);
    if ("status" in parsed) return parsed;
    const user = parsed.messages
      .filter((m) => m.role === "user")
      .map((m) => m.content)
      .join("\n");
    this.prompts.push(user);
    const chars = parsed.messages.reduce((n, m) => n + m.content.length, 0);
    const info: LlmRequestInfo = {
      model: parsed.model,
      user,
      promptTokens: tokensOf(chars),
      responseFormat: parsed.format?.type,
    };
    if (this.o.latencyMs) await new Promise((r) => setTimeout(r, this.o.latencyMs));
    if (this.down)
      return { ...error(503, "The server is overloaded or not ready yet.", "server_error", null) };
    const fault = this.faults.shift() ?? this.fault?.(info, this.stats.requests);
    if (fault?.kind === "hang") {
      await new Promise((resolve) => res.on("close", resolve));
      return undefined;
    }
    const early = this.refusal(fault, parsed, info);
    if (early) return early;
    const content = this.content(fault, parsed, user);
    let completion = content === null ? 8 : tokensOf(content.length);
    let text = content;
    let finish = "stop";
    if (fault?.kind === "length" || (parsed.maxTokens !== undefined && completion > parsed.maxTokens)) {
      const keep = Math.max(1, Math.min(parsed.maxTokens ?? completion, Math.floor(completion / 2)));
      text = (content ?? "").slice(0, keep * 4);
      completion = keep;
      finish = "length";
    }
    const verdict = this.limits?.admit(info.promptTokens + completion);
    if (verdict?.over)
      return this.overLimit(verdict.over, verdict.headers, parsed.model, info.promptTokens + completion);
    this.stats.completions++;
    this.stats.lastCompletionAt = Date.now();
    this.stats.promptTokens += info.promptTokens;
    this.stats.completionTokens += completion;
    const id = createHash("sha256").update(JSON.stringify(parsed.messages)).digest("hex").slice(0, 24);
    return {
      status: 200,
      headers: verdict?.headers ?? {},
      body: {
        id: `chatcmpl-${id}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: parsed.model,
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: fault?.kind === "refusal" ? null : text,
              refusal: fault?.kind === "refusal" ? "I'm sorry, I can't help with that request." : null,
            },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage: {
          prompt_tokens: info.promptTokens,
          completion_tokens: completion,
          total_tokens: info.promptTokens + completion,
        },
      },
    };
  }

  /** A 4xx/5xx the request earns before any answer is made (faults, context length, response_format). */
  private refusal(fault: LlmFault | undefined, req: ChatRequest, info: LlmRequestInfo): Answer | undefined {
    switch (fault?.kind) {
      case "rate_limit": {
        const a = error(
          429,
          `Rate limit reached for ${req.model} in organization org-fake on requests per min (RPM).`,
          "requests",
          "rate_limit_exceeded",
        );
        a.headers = {
          ...(fault.retryAfter !== undefined ? { "retry-after": String(fault.retryAfter) } : {}),
          ...(fault.retryAfterMs !== undefined ? { "retry-after-ms": String(fault.retryAfterMs) } : {}),
        };
        return a;
      }
      case "insufficient_quota":
        return error(
          429,
          "You exceeded your current quota, please check your plan and billing details.",
          "insufficient_quota",
          "insufficient_quota",
        );
      case "too_large":
        return error(
          429,
          `Request too large for ${req.model} in organization org-fake on tokens per min (TPM): Limit 1000, Requested ${info.promptTokens}.`,
          "tokens",
          "rate_limit_exceeded",
        );
      case "server_error": {
        const a = error(
          fault.status,
          "The server had an error while processing your request.",
          "server_error",
          null,
        );
        if (fault.shouldRetry !== undefined) a.headers = { "x-should-retry": String(fault.shouldRetry) };
        return a;
      }
      default:
    }
    const contextLimit = this.o.contextTokens;
    if (fault?.kind === "context_length" || (contextLimit !== undefined && info.promptTokens > contextLimit))
      return error(
        400,
        `This model's maximum context length is ${contextLimit ?? 0} tokens. However, your messages resulted in ${info.promptTokens} tokens. Please reduce the length of the messages.`,
        "invalid_request_error",
        "context_length_exceeded",
        "messages",
      );
    const format = req.format;
    if (format?.type === "json_schema") {
      if (!this.jsonSchema)
        return error(
          400,
          "response_format type 'json_schema' is not supported by this server; use 'json_object'",
          "invalid_request_error",
          null,
          "response_format",
        );
      const problem = format.json_schema?.strict ? strictSchemaProblem(format.json_schema.schema) : undefined;
      if (problem)
        return error(
          400,
          `Invalid schema for response_format '${format.json_schema?.name ?? "schema"}': ${problem}`,
          "invalid_request_error",
          "invalid_json_schema",
          "response_format",
        );
    }
    if (format?.type === "json_object" && !/json/i.test(req.messages.map((m) => m.content).join("\n")))
      return error(
        400,
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        "invalid_request_error",
        null,
        "messages",
      );
    return undefined;
  }

  private content(fault: LlmFault | undefined, _req: ChatRequest, user: string): string | null {
    if (fault?.kind === "refusal") return null;
    if (fault?.kind === "malformed") return '{"summary": "the answer stops he';
    if (fault?.kind === "schema_violation") return JSON.stringify({ summary: 42, entities: "none" });
    return JSON.stringify(fakeExtract(user));
  }

  private overLimit(
    over: { kind: string; waitMs: number; tooLarge: boolean },
    headers: Record<string, string>,
    model: string,
    cost: number,
  ): Answer {
    const unit = over.kind === "requests" ? "requests per min (RPM)" : "tokens per min (TPM)";
    const a = over.tooLarge
      ? error(
          429,
          `Request too large for ${model} in organization org-fake on ${unit}: Requested ${cost}.`,
          over.kind,
          "rate_limit_exceeded",
        )
      : error(
          429,
          `Rate limit reached for ${model} in organization org-fake on ${unit}. Please try again in ${Math.ceil(over.waitMs)}ms.`,
          over.kind,
          "rate_limit_exceeded",
        );
    const hints = this.o.limitHints !== false && !over.tooLarge;
    a.headers = {
      ...headers,
      ...(hints
        ? {
            "retry-after-ms": String(Math.ceil(over.waitMs)),
            "retry-after": String(Math.ceil(over.waitMs / 1000)),
          }
        : {}),
    };
    return a;
  }
}

/** Starts the fake on 127.0.0.1 (port 0 unless given); `url` is its origin (clients use `${url}/v1`). */
export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const server = new FakeLlmServer(options);
  await server.listen();
  return server;
}
