import type { LlmExtractConfig } from "../../config/steps-schema.js";
import { DegradableError, errorMessage, isHttpError, isSyncError } from "../../errors.js";
import type { ConnectorContext, Doc, Enricher } from "../types.js";
import { MalformedAnswerError, readAnswer, type ExtractedPart } from "./llm-answer.js";
import { TokenBudget } from "./llm-budget.js";
import { buildMessages, buildRequest, estimateTokens } from "./llm-prompt.js";
import { mergeParts, splitHalves } from "./llm-split.js";

/** Halvings of one episode for a context limit, at most (2^4 = 16 pieces). */
const MAX_SPLIT_DEPTH = 4;

type Usage = { promptTokens: number; completionTokens: number };

/** A 400 from a server that does not do response_format json_schema (llama.cpp's older builds, some proxies). */
function refusesJsonSchema(e: unknown): boolean {
  return (
    isHttpError(e) &&
    e.status === 400 &&
    e.providerCode !== "context_length_exceeded" &&
    e.providerCode !== "invalid_json_schema" &&
    /json_schema|response_format/i.test(e.message)
  );
}

const isContextLength = (e: unknown): boolean =>
  isHttpError(e) && e.providerCode === "context_length_exceeded";

/**
 * Extracts a summary, entities and dated facts from each document (an agent session's episode) through
 * an OpenAI-compatible /v1/chat/completions endpoint with structured output, and adds them to the doc
 * as `extraction`. Every request goes through the provider's policy (breaker, retries, the shared gate
 * pacing requests and tokens) and this step's token budget; an episode too long for the model's context
 * is split in halves and the halves' extractions merged; a malformed answer is asked once more.
 */
export class LlmExtract implements Enricher {
  readonly type = "llm-extract";
  private format: "json_schema" | "json_object";
  private formatKnown = false;
  private budget: TokenBudget | undefined;
  private warned = false;

  constructor(readonly o: LlmExtractConfig) {
    this.format = o.response_format === "json_object" ? "json_object" : "json_schema";
  }

  async enrich(doc: Doc, ctx: ConnectorContext): Promise<Doc> {
    await this.learnFormat(ctx);
    const usage: Usage = { promptTokens: 0, completionTokens: 0 };
    const text = doc.content.slice(0, this.o.max_input_chars) || doc.key;
    const { part, model } = await this.extract(text, ctx, usage, 0);
    return { ...doc, extraction: { ...part, model, usage } };
  }

  private async extract(
    text: string,
    ctx: ConnectorContext,
    usage: Usage,
    depth: number,
  ): Promise<{ part: ExtractedPart; model: string }> {
    try {
      return await this.ask(text, ctx, usage);
    } catch (e) {
      if (!isContextLength(e)) throw e;
      const halves = depth < MAX_SPLIT_DEPTH ? splitHalves(text) : undefined;
      if (!halves)
        throw new DegradableError(
          `${this.o.provider}: the episode does not fit the model's context even split ${depth} times: ${errorMessage(e)}`,
          "LLM_CONTEXT_LENGTH",
          e,
        );
      const a = await this.extract(halves[0], ctx, usage, depth + 1);
      const b = await this.extract(halves[1], ctx, usage, depth + 1);
      return { part: mergeParts(a.part, b.part), model: a.model };
    }
  }

  /** One piece of text: asked, and asked once more when the answer is malformed. */
  private async ask(
    text: string,
    ctx: ConnectorContext,
    usage: Usage,
  ): Promise<{ part: ExtractedPart; model: string }> {
    for (let attempt = 1; ; attempt++) {
      const body = await this.call(text, ctx, usage);
      try {
        const model = (body as { model?: unknown } | null)?.model;
        return {
          part: readAnswer(body, this.o.provider),
          model: typeof model === "string" ? model : this.o.model,
        };
      } catch (e) {
        if (!(e instanceof MalformedAnswerError)) throw e;
        if (attempt < 2) continue;
        throw new DegradableError(`${e.message} (asked twice)`, "LLM_MALFORMED", e);
      }
    }
  }

  /** One request, within the budget; a server that refuses json_schema gets json_object from then on. */
  private async call(text: string, ctx: ConnectorContext, usage: Usage): Promise<unknown> {
    const messages = buildMessages(this.o, text);
    const estimate = estimateTokens(messages, this.o.max_output_tokens);
    const budget = this.budgetFor(ctx);
    if (budget) await this.reserve(budget, estimate, ctx);
    let spent = 0;
    try {
      const res = await ctx
        .http(this.o.provider)
        .postJson("chat/completions", buildRequest(this.o, messages, this.format), ctx.signal, {
          tokens: estimate,
        })
        .catch(async (e: unknown) => {
          if (this.o.response_format !== "auto" || this.format !== "json_schema" || !refusesJsonSchema(e))
            throw e;
          this.format = "json_object";
          await ctx.cache.set(this.formatKey(), "json_object");
          return ctx
            .http(this.o.provider)
            .postJson("chat/completions", buildRequest(this.o, messages, this.format), ctx.signal, {
              tokens: estimate,
            });
        });
      const u = (res.body as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } } | null)
        ?.usage;
      const prompt = typeof u?.prompt_tokens === "number" ? u.prompt_tokens : 0;
      const completion = typeof u?.completion_tokens === "number" ? u.completion_tokens : 0;
      usage.promptTokens += prompt;
      usage.completionTokens += completion;
      spent = prompt + completion;
      return res.body;
    } finally {
      if (budget) await budget.settle(estimate, spent);
    }
  }

  private async reserve(budget: TokenBudget, estimate: number, ctx: ConnectorContext): Promise<void> {
    try {
      await budget.reserve(estimate);
    } catch (e) {
      if (isSyncError(e) && !this.warned) {
        this.warned = true;
        ctx.warn?.(`llm-extract: ${e.message}; the remaining episodes are stored raw and owed`);
      }
      throw e;
    }
  }

  private budgetFor(ctx: ConnectorContext): TokenBudget | undefined {
    const { max_tokens_per_run: perRun, max_tokens_per_day: perDay } = this.o.budget;
    if (perRun === undefined && perDay === undefined) return undefined;
    const runKey = ctx.runId && `${ctx.runId}:${this.o.provider}:${ctx.job}:${ctx.phase}`;
    this.budget ??= new TokenBudget({ perRun, perDay }, this.o.provider, ctx.cache, runKey);
    return this.budget;
  }

  private formatKey(): string {
    return `llm-extract:format:${this.o.provider}:${this.o.model}`;
  }

  /** A server found earlier to refuse json_schema (any run, any process) is asked with json_object. */
  private async learnFormat(ctx: ConnectorContext): Promise<void> {
    if (this.formatKnown || this.o.response_format !== "auto") return;
    this.formatKnown = true;
    if ((await ctx.cache.get(this.formatKey())) === "json_object") this.format = "json_object";
  }
}
