import { afterEach, describe, expect, it } from "vitest";
import { HttpError } from "../src/errors.js";
import { HttpClient } from "../src/resilience/http-client.js";
import { ProviderPolicy } from "../src/resilience/policy.js";
import { formatResetDuration, parseResetDuration } from "../src/resilience/reset-duration.js";
import { startFakeLlm, type FakeLlm, type LlmFault } from "../src/testing/fake-llm.js";
import { fastPolicy, tempLedger } from "./helpers/resilience.js";

describe("x-ratelimit-reset-* durations", () => {
  it("reads Go-style durations and plain seconds, and writes them as OpenAI does", () => {
    expect(parseResetDuration("6m0s")).toBe(360_000);
    expect(parseResetDuration("1m30.5s")).toBe(90_500);
    expect(parseResetDuration("250ms")).toBe(250);
    expect(parseResetDuration("1h2m")).toBe(3_720_000);
    expect(parseResetDuration("17.2s")).toBe(17_200);
    expect(parseResetDuration("12")).toBe(12_000);
    for (const bad of ["", "6 minutes", "m", "1x"]) expect(parseResetDuration(bad)).toBeUndefined();
    expect([120, 1500, 360_000, 90_500].map(formatResetDuration)).toEqual([
      "120ms",
      "1.5s",
      "6m0s",
      "1m30.5s",
    ]);
  });
});

describe("an OpenAI-style provider's errors, as the resilient client classes them", () => {
  let llm: FakeLlm;
  let cleanup: () => Promise<void>;
  afterEach(async () => {
    await llm.close();
    await cleanup();
  });

  async function failure(fault: LlmFault): Promise<HttpError> {
    llm = await startFakeLlm({ faults: [fault] });
    const t = tempLedger();
    cleanup = t.cleanup;
    const policy = new ProviderPolicy(
      "llm",
      t.ledger.resilience,
      fastPolicy({ retryEnabled: false }),
      "test",
    );
    const client = new HttpClient(policy, { baseUrl: `${llm.url}/v1` });
    const body = { model: "m", messages: [{ role: "user", content: "hello" }] };
    return (await client.postJson("chat/completions", body).catch((e: unknown) => e)) as HttpError;
  }

  it("429 insufficient_quota is the account's (config), not a rate limit", async () => {
    const e = await failure({ kind: "insufficient_quota" });
    expect([e.status, e.errorClass, e.providerCode]).toEqual([429, "config", "insufficient_quota"]);
  });

  it("429 request too large will never fit (permanent)", async () => {
    expect((await failure({ kind: "too_large" })).errorClass).toBe("permanent");
  });

  it("400 context_length_exceeded is permanent and keeps its code (the step splits on it)", async () => {
    const e = await failure({ kind: "context_length" });
    expect([e.errorClass, e.providerCode]).toEqual(["permanent", "context_length_exceeded"]);
  });

  it("400 invalid_json_schema refuses every request alike: config, so the run stops instead of killing items", async () => {
    llm = await startFakeLlm();
    const t = tempLedger();
    cleanup = t.cleanup;
    const policy = new ProviderPolicy(
      "llm",
      t.ledger.resilience,
      fastPolicy({ retryEnabled: false }),
      "test",
    );
    const client = new HttpClient(policy, { baseUrl: `${llm.url}/v1` });
    const loose = { type: "object", properties: { a: { type: "string" } } };
    const body = {
      model: "m",
      messages: [{ role: "user", content: "hello" }],
      response_format: { type: "json_schema", json_schema: { name: "x", strict: true, schema: loose } },
    };
    const e = (await client.postJson("chat/completions", body).catch((x: unknown) => x)) as HttpError;
    expect([e.status, e.errorClass, e.providerCode]).toEqual([400, "config", "invalid_json_schema"]);
  });

  it("a 429 rate limit says how long to wait: retry-after-ms before retry-after", async () => {
    const e = await failure({ kind: "rate_limit", retryAfter: 7, retryAfterMs: 1500 });
    expect([e.errorClass, e.retryAfterMs]).toEqual(["rate_limited", 1500]);
  });

  it("a 429 over the tokens limit without retry-after waits for x-ratelimit-reset-tokens", async () => {
    llm = await startFakeLlm({ limits: { tokensPerMinute: 600 }, limitHints: false });
    const t = tempLedger();
    cleanup = t.cleanup;
    const policy = new ProviderPolicy(
      "llm",
      t.ledger.resilience,
      fastPolicy({ retryEnabled: false }),
      "test",
    );
    const client = new HttpClient(policy, { baseUrl: `${llm.url}/v1` });
    const body = { model: "m", messages: [{ role: "user", content: "x".repeat(800) }] };
    await client.postJson("chat/completions", body);
    await client.postJson("chat/completions", body);
    const e = (await client.postJson("chat/completions", body).catch((x: unknown) => x)) as HttpError;
    expect([e.status, e.errorClass]).toEqual([429, "rate_limited"]);
    expect(e.retryAfterMs).toBeGreaterThan(1000);
    expect(e.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it("x-should-retry decides over the status: false makes a 503 permanent", async () => {
    expect((await failure({ kind: "server_error", status: 503, shouldRetry: false })).errorClass).toBe(
      "permanent",
    );
  });

  it("a 500 with x-should-retry: true stays transient", async () => {
    expect((await failure({ kind: "server_error", status: 500, shouldRetry: true })).errorClass).toBe(
      "transient",
    );
  });
});
