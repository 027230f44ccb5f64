import { afterEach, describe, expect, it } from "vitest";
import { EventBus } from "../src/events.js";
import { classifyError } from "../src/resilience/classify.js";
import { ProviderPolicy } from "../src/resilience/policy.js";
import { fastPolicy, tempLedger } from "./helpers/resilience.js";

/** An error as client libraries throw them: OpenAI/Octokit (status), AWS/got (statusCode), axios (response.status). */
function sdkError(shape: "status" | "statusCode" | "response", status: number): Error {
  const e = new Error(`request failed with status ${status}`);
  if (shape === "response") return Object.assign(e, { response: { status, data: {} } });
  return Object.assign(e, { [shape]: status });
}

describe("errors thrown by client libraries", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  /** How many times `policy.execute` called a function that throws `error` `failures` times, then succeeds. */
  async function attemptsFor(
    error: Error,
    failures = Infinity,
  ): Promise<{ attempts: number; outcome: string }> {
    const t = tempLedger();
    cleanups.push(t.cleanup);
    const policy = new ProviderPolicy("sdk", t.ledger.resilience, fastPolicy(), "host:1:t", new EventBus());
    let attempts = 0;
    const outcome = await policy
      .execute(() => {
        attempts++;
        if (attempts <= failures) throw error;
        return Promise.resolve("ok");
      })
      .catch((e: unknown) => (e === error ? "rejected with the SDK's error" : `rejected with ${String(e)}`));
    return { attempts, outcome };
  }

  for (const shape of ["status", "statusCode", "response"] as const) {
    it(`14.5 an SDK error with ${shape === "response" ? "response.status" : shape} 400 or 404 is attempted once; 503 and 429 are retried`, async () => {
      for (const status of [400, 404]) {
        expect(await attemptsFor(sdkError(shape, status)), `${shape} ${status}`).toEqual({
          attempts: 1,
          outcome: "rejected with the SDK's error",
        });
      }
      // transient: retried up to max_attempts (3), then the SDK's error
      expect(await attemptsFor(sdkError(shape, 503))).toEqual({
        attempts: 3,
        outcome: "rejected with the SDK's error",
      });
      // rate limited: waits (no attempt consumed) and calls again, here until it succeeds
      expect(await attemptsFor(sdkError(shape, 429), 2)).toEqual({ attempts: 3, outcome: "ok" });
    });
  }

  it("14.5 SDK errors are classed by their status like HTTP responses: 4xx permanent but 408/409/425/429, 401/403 config, 5xx transient", () => {
    const classes = Object.fromEntries(
      [400, 401, 403, 404, 408, 409, 410, 422, 425, 429, 500, 502, 503, 504, 599].map((s) => [
        s,
        classifyError(sdkError("status", s)),
      ]),
    );
    expect(classes).toEqual({
      400: "permanent",
      401: "config",
      403: "config",
      404: "permanent",
      408: "transient",
      409: "transient",
      410: "permanent",
      422: "permanent",
      425: "transient",
      429: "rate_limited",
      500: "transient",
      502: "transient",
      503: "transient",
      504: "transient",
      599: "transient",
    });
    // a wrapper that keeps the SDK's error as its cause is classed by it; no status at all stays transient
    expect(classifyError(new Error("wrapped", { cause: sdkError("statusCode", 404) }))).toBe("permanent");
    expect(classifyError(new Error("no status"))).toBe("transient");
  });
});
