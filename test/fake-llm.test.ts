import OpenAI from "openai";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeLlm, type FakeLlm, type FakeLlmOptions } from "../src/testing/fake-llm.js";

const EPISODE = [
  "Fix the login crash in src/auth.ts",
  "The handler in src/auth.ts uses express and throws ECONNRESET when redis drops.",
  "validateToken() lives in src/auth.ts.",
  "Decision: retry the redis call once @alice",
  "The migration is now done.",
].join("\n");

const SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["summary"],
  properties: { summary: { type: "string" } },
};

let llm: FakeLlm;
afterEach(async () => {
  await llm.close();
});

async function client(
  options: FakeLlmOptions = {},
  extra: Partial<ConstructorParameters<typeof OpenAI>[0]> = {},
) {
  llm = await startFakeLlm(options);
  return new OpenAI({ baseURL: `${llm.url}/v1`, apiKey: "sk-test-fake", maxRetries: 0, ...extra });
}

const ask = (c: OpenAI, format: "json_schema" | "json_object" = "json_schema", text = EPISODE) =>
  c.chat.completions.create({
    model: "fake-model",
    temperature: 0,
    messages: [
      { role: "system", content: "Extract entities and facts as JSON." },
      { role: "user", content: text },
    ],
    response_format:
      format === "json_schema"
        ? { type: "json_schema", json_schema: { name: "extraction", strict: true, schema: SCHEMA } }
        : { type: "json_object" },
  });

describe("fake OpenAI-compatible server, through the official openai client", () => {
  it("answers deterministic structured output with usage and rate-limit headers", async () => {
    const c = await client({ limits: { requestsPerMinute: 100, tokensPerMinute: 100_000 } });
    const { data, response } = await ask(c).withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]!.finish_reason).toBe("stop");
    expect(data.choices[0]!.message.refusal).toBeNull();
    const out = JSON.parse(data.choices[0]!.message.content!) as {
      summary: string;
      entities: { name: string; type: string }[];
      facts: { subject: string; relation: string; object: string; exclusive: boolean }[];
    };
    expect(out.summary).toBe("Fix the login crash in src/auth.ts");
    const names = out.entities.map((e) => `${e.type}:${e.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "file:src/auth.ts",
        "library:express",
        "library:redis",
        "error:ECONNRESET",
        "function:validateToken",
        "person:alice",
        "decision:retry the redis call once @alice",
      ]),
    );
    expect(out.facts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ subject: "src/auth.ts", relation: "uses", object: "express" }),
        expect.objectContaining({ subject: "ECONNRESET", relation: "raised_in", object: "src/auth.ts" }),
        expect.objectContaining({ subject: "validateToken", relation: "defined_in", object: "src/auth.ts" }),
        expect.objectContaining({
          subject: "migration",
          relation: "status",
          object: "done",
          exclusive: true,
        }),
      ]),
    );
    const chars = "Extract entities and facts as JSON.".length + EPISODE.length;
    expect(data.usage).toEqual({
      prompt_tokens: Math.ceil(chars / 4),
      completion_tokens: Math.ceil(data.choices[0]!.message.content!.length / 4),
      total_tokens: data.usage!.prompt_tokens + data.usage!.completion_tokens,
    });
    expect(response.headers.get("x-ratelimit-limit-requests")).toBe("100");
    expect(response.headers.get("x-ratelimit-remaining-requests")).toBe("99");
    expect(response.headers.get("x-ratelimit-limit-tokens")).toBe("100000");
    expect(Number(response.headers.get("x-ratelimit-remaining-tokens"))).toBe(
      100_000 - data.usage!.total_tokens,
    );
    expect(response.headers.get("x-ratelimit-reset-requests")).toMatch(/^\d+(\.\d+)?(ms|s)$/);
    const again = await ask(c);
    expect(again.choices[0]!.message.content).toBe(data.choices[0]!.message.content);
    expect(llm.stats).toMatchObject({ requests: 2, completions: 2, rateLimited: 0 });
    expect(llm.stats.promptTokens + llm.stats.completionTokens).toBe(2 * data.usage!.total_tokens);
  });

  it("enforces its tokens-per-minute limit with 429 rate_limit_exceeded and says when to retry", async () => {
    const c = await client({ limits: { tokensPerMinute: 700 } });
    await ask(c);
    const err = await ask(c).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const e = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(e.code).toBe("rate_limit_exceeded");
    expect(Number(e.headers.get("retry-after-ms"))).toBeGreaterThan(0);
    expect(e.headers.get("x-ratelimit-reset-tokens")).toMatch(/^(\d+m)?\d+(\.\d+)?s$|^\d+ms$/);
    expect(llm.stats.rateLimited).toBe(1);
  });

  it("injects rate limits (the client's own retry honours retry-after-ms), quota and too-large 429s", async () => {
    let c = await client({ faults: [{ kind: "rate_limit", retryAfterMs: 30 }] }, { maxRetries: 1 });
    const ok = await ask(c);
    expect(ok.choices[0]!.finish_reason).toBe("stop");
    expect(llm.stats.requests).toBe(2);
    llm.faults.push({ kind: "insufficient_quota" }, { kind: "too_large" });
    c = c.withOptions({ maxRetries: 0 }); // the SDK would retry every 429, quota or not
    const quota = (await ask(c).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect([quota.status, quota.code]).toEqual([429, "insufficient_quota"]);
    const large = (await ask(c).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(large.status).toBe(429);
    expect(large.message).toMatch(/Request too large/);
  });

  it("injects 5xx with x-should-retry, context length, malformed, violating, cut and refused answers", async () => {
    const c = await client({
      faults: [
        { kind: "server_error", status: 503, shouldRetry: false },
        { kind: "context_length" },
        { kind: "malformed" },
        { kind: "schema_violation" },
        { kind: "length" },
        { kind: "refusal" },
      ],
    });
    const down = (await ask(c).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect([down.status, down.headers?.get("x-should-retry")]).toEqual([503, "false"]);
    const ctx = (await ask(c).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect([ctx.status, ctx.code]).toEqual([400, "context_length_exceeded"]);
    const malformed = (await ask(c)).choices[0]!.message.content!;
    expect(() => JSON.parse(malformed) as unknown).toThrow(SyntaxError);
    expect(JSON.parse((await ask(c)).choices[0]!.message.content!)).toEqual({
      summary: 42,
      entities: "none",
    });
    const cut = await ask(c);
    expect(cut.choices[0]!.finish_reason).toBe("length");
    const refused = await ask(c);
    expect(refused.choices[0]!.message.content).toBeNull();
    expect(refused.choices[0]!.message.refusal).toMatch(/can't help/);
    expect(llm.stats.byStatus).toEqual({ 503: 1, 400: 1, 200: 4 });
  });

  it("refuses prompts over its context size, json_schema when told it lacks it, and a non-strict schema", async () => {
    const c = await client({ contextTokens: 50 });
    const long = (await ask(c).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(long.code).toBe("context_length_exceeded");
    expect((await ask(c, "json_schema", "short")).choices[0]!.finish_reason).toBe("stop");
    llm.jsonSchema = false;
    const noSchema = (await ask(c, "json_schema", "short").catch((e: unknown) => e)) as InstanceType<
      typeof OpenAI.APIError
    >;
    expect([noSchema.status, noSchema.param]).toEqual([400, "response_format"]);
    expect((await ask(c, "json_object", "short")).choices[0]!.finish_reason).toBe("stop");
    llm.jsonSchema = true;
    const loose = await c.chat.completions
      .create({
        model: "m",
        messages: [{ role: "user", content: "hi" }],
        response_format: {
          type: "json_schema",
          json_schema: {
            name: "x",
            strict: true,
            schema: { type: "object", properties: { a: { type: "string" } } },
          },
        },
      })
      .catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect((loose as InstanceType<typeof OpenAI.APIError>).message).toMatch(/additionalProperties/);
  });

  it("hangs until the client's timeout, and answers 503 while down", async () => {
    const c = await client({ faults: [{ kind: "hang" }] }, { timeout: 300 });
    const hung = await ask(c).catch((e: unknown) => e);
    expect(hung).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    llm.down = true;
    const down = (await ask(c).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(down.status).toBe(503);
    llm.down = false;
    expect((await ask(c)).choices[0]!.finish_reason).toBe("stop");
  });
});
