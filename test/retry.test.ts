import { afterEach, describe, expect, it } from "vitest";
import { backoffDelay } from "../src/resilience/backoff.js";
import { HttpClient } from "../src/resilience/http-client.js";
import { EventBus, type SyncEvent } from "../src/events.js";
import { ProviderPolicy } from "../src/resilience/policy.js";
import { parseRetryAfter } from "../src/resilience/retry-after.js";
import { sleep } from "../src/resilience/sleep.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { fastPolicy, tempLedger } from "./helpers/resilience.js";

describe("retry, Retry-After and rate limits", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function setup(script: Parameters<FaultServer["setScript"]>[0], over = {}) {
    const t = tempLedger();
    const server = await startFaultServer(script ? { script } : {});
    cleanups.push(t.cleanup, () => server.close());
    const events: SyncEvent[] = [];
    const bus = new EventBus();
    bus.on((e) => events.push(e));
    const policy = new ProviderPolicy("api", t.ledger.resilience, fastPolicy(over), "host:1:t", bus);
    return { t, server, events, http: new HttpClient(policy, { baseUrl: server.url }) };
  }

  it("parses Retry-After: seconds, HTTP dates, and no hint for zero, negative or junk", () => {
    const now = Date.parse("2026-11-27T10:00:00Z");
    expect(parseRetryAfter("2", now)).toBe(2000);
    expect(parseRetryAfter("Fri, 27 Nov 2026 10:00:05 GMT", now)).toBe(5000);
    expect(parseRetryAfter("0", now)).toBeUndefined();
    expect(parseRetryAfter("-3", now)).toBeUndefined();
    expect(parseRetryAfter("Fri, 27 Nov 2026 09:00:00 GMT", now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });

  it("full jitter stays within [0, min(max, base·2^(n-1))]; decorrelated within [base, 3·previous]", () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const ceiling = Math.min(5000, 100 * 2 ** (attempt - 1));
      for (const r of [0, 0.25, 0.5, 0.999]) {
        const d = backoffDelay(attempt, { baseMs: 100, maxMs: 5000 }, 100, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
      const samples = Array.from({ length: 200 }, () => backoffDelay(attempt, { baseMs: 100, maxMs: 5000 }));
      expect(Math.max(...samples)).toBeLessThanOrEqual(ceiling);
      const dec = backoffDelay(
        attempt,
        { baseMs: 100, maxMs: 5000, jitter: "decorrelated" },
        400,
        () => 0.999,
      );
      expect(dec).toBeGreaterThanOrEqual(100);
      expect(dec).toBeLessThanOrEqual(1200);
    }
    expect(backoffDelay(3, { baseMs: 100, maxMs: 5000, jitter: "none" })).toBe(400);
  });

  it("honours Retry-After: the retry comes neither early nor ignored", async () => {
    const { server, http } = await setup((r) => (r.n === 1 ? { kind: "429", retryAfter: "1" } : undefined));
    const started = Date.now();
    const res = await http.getJson("/products");
    const waited = Date.now() - started;
    expect(res.status).toBe(200);
    expect(server.stats.requests).toBe(2);
    expect(waited).toBeGreaterThanOrEqual(1000);
    expect(waited).toBeLessThan(10_000);
    const [first, second] = server.log;
    expect(second!.t - first!.t).toBeGreaterThanOrEqual(990);
  });

  it("rate-limit waits do not consume attempts", async () => {
    // five rate limits in a row, then success, with only 2 attempts allowed
    const { server, http, events } = await setup(
      (r) => (r.n <= 5 ? { kind: "429", retryAfter: "0.05" } : undefined),
      {
        retry: {
          maxAttempts: 2,
          baseDelayMs: 10,
          maxDelayMs: 50,
          exponentialBase: 2,
          jitter: "full",
          budgetMs: 20_000,
        },
      },
    );
    const res = await http.getJson("/products");
    expect(res.status).toBe(200);
    expect(server.stats.requests).toBe(6);
    expect(events.filter((e) => e.type === "gate:pause").length).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === "retry:attempt")).toEqual([]);
  });

  it("403 with X-RateLimit-Remaining: 0 pauses the shared gate until the reset", async () => {
    const { server, http, t } = await setup((r) =>
      r.n === 1 ? { kind: "403-ratelimit", resetInSeconds: 1 } : undefined,
    );
    const res = await http.getJson("/products");
    expect(res.status).toBe(200);
    expect(server.stats.requests).toBe(2);
    const gate = (await t.ledger.resilience.readGate("api")).record;
    expect(gate?.pausedUntil).toBeGreaterThan(0);
  });

  it("transient failures are retried up to max attempts, then surface with their class", async () => {
    const { server, http, events } = await setup(() => ({ kind: "status", status: 502 }));
    await expect(http.getJson("/products?key=supersecret")).rejects.toMatchObject({
      errorClass: "transient",
      status: 502,
    });
    expect(server.stats.requests).toBe(3);
    expect(events.filter((e) => e.type === "retry:attempt")).toHaveLength(2);
    // secrets in URLs never reach messages or events
    expect(JSON.stringify(events)).not.toContain("supersecret");
    await expect(http.getJson("/products?key=supersecret")).rejects.toSatisfy(
      (e: Error) => !e.message.includes("supersecret"),
    );
  });

  it("a 404 is permanent: no retry; malformed JSON and resets are retried", async () => {
    const a = await setup(undefined);
    await expect(a.http.getJson("/nope")).rejects.toMatchObject({ errorClass: "permanent", status: 404 });
    expect(a.server.stats.requests).toBe(1);
    const b = await setup((r) =>
      r.n === 1 ? { kind: "malformed" } : r.n === 2 ? { kind: "reset" } : undefined,
    );
    expect((await b.http.getJson("/products")).status).toBe(200);
    expect(b.server.stats.requests).toBe(3);
  });

  it("a call stalled past its timeout is abandoned and retried", async () => {
    const { server, http } = await setup((r) => (r.n === 1 ? { kind: "stall", ms: 5000 } : undefined), {
      timeoutMs: 200,
    });
    expect((await http.getJson("/products")).status).toBe(200);
    expect(server.stats.requests).toBe(2);
  });

  it("an abort during a long backoff returns within 50 ms", async () => {
    const controller = new AbortController();
    const { http } = await setup(() => ({ kind: "status", status: 503 }), {
      retry: {
        maxAttempts: 5,
        baseDelayMs: 30_000,
        maxDelayMs: 60_000,
        exponentialBase: 2,
        jitter: "none",
        budgetMs: 600_000,
      },
    });
    const call = http.getJson("/products", controller.signal).catch((e: unknown) => e);
    await sleep(300); // the first attempt failed; the policy now sleeps 30 s
    const aborted = Date.now();
    controller.abort();
    const outcome = await call;
    expect(Date.now() - aborted).toBeLessThan(50);
    expect(outcome).toBeInstanceOf(Error);
  });
});
