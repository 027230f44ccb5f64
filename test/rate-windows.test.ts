import { afterEach, describe, expect, it } from "vitest";
import { HttpClient } from "../src/resilience/http-client.js";
import { ProviderPolicy, type PolicyOptions } from "../src/resilience/policy.js";
import type { RateLimitInfo } from "../src/resilience/retry-after.js";
import { WindowEstimate } from "../src/resilience/window-estimate.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { fastPolicy, tempLedger } from "./helpers/resilience.js";

// Windows that start at a request (GitHub's) advertise a reset rounded up to whole seconds, so a client
// that waits for it loses up to a second per window. The gate learns where such a window really ends
// from the answer that opened it, sends one probe there, and lets the others go only once the probe's
// answer shows a new window; against windows aligned to whole seconds the learning is wrong, and the
// probe's answer (or its refusal) ends it.

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const T = 1_800_000_000_000; // a whole second, epoch ms
const info = (remaining: number, resetAt: number, limit = 5): RateLimitInfo => ({
  limit,
  remaining,
  resetAt,
});

describe("window estimate (the learning on its own, on a clock the test sets)", () => {
  /** A window of 5 per second opened by a request sent at T+300 (the server's start at T+301). */
  function learnedOne(): WindowEstimate {
    const w = new WindowEstimate();
    w.observe(info(4, T + 2000), undefined, T + 300, T + 302);
    for (let left = 3; left >= 0; left--) w.observe(info(left, T + 2000), undefined, T + 303, T + 305);
    return w;
  }

  it("learns the length from the answer that opened a window and probes once at the window's end", async () => {
    const w = learnedOne();
    const pausedUntil = T + 2001; // the gate paused to the rounded reset
    // before the estimated end (T+302 + 1 s): wait until it, not until the reset
    expect(w.hold(pausedUntil, T + 500)).toMatchObject({ go: false, wakeInMs: 802 });
    // at the estimated end one call goes, the next waits for its answer (or the pause's end)
    expect(w.hold(pausedUntil, T + 1302)).toEqual({ go: true });
    const next = w.hold(pausedUntil, T + 1303);
    expect(next).toMatchObject({ go: false, wakeInMs: 698 });
    let woken = false;
    const sleeping = w.sleep(60_000).then(() => (woken = true));
    // the probe's answer opened a new window: the old window's pause no longer holds anyone here
    w.observe(info(4, T + 3000), undefined, T + 1302, T + 1304);
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).toBe(true); // woken by the answer, not by its minute's timer
    await sleeping;
    expect(w.hold(pausedUntil, T + 1305)).toEqual({ go: true });
    expect(w.learning).toBe(true);
    // a pause that is not that window's (a 60 s Retry-After) is waited out in full
    expect(w.hold(T + 61_305, T + 1305)).toMatchObject({ go: false, wakeInMs: 60_000 });
  });

  it("sends no probe for a gain under 5% of the window (an hour-long window's second)", () => {
    const w = new WindowEstimate();
    w.observe(info(4, T + 3_601_000), undefined, T + 300, T + 302); // learns 3,600 s
    expect(w.hold(T + 3_601_001, T + 3_600_302)).toMatchObject({ go: false, wakeInMs: 699 });
  });

  it("learns nothing from an answer that straddled a second, or from a reset that is not epoch seconds", () => {
    const w = new WindowEstimate();
    w.observe(info(4, T + 2000), undefined, T + 999, T + 1001);
    w.observe(info(3, T + 2000), undefined, T + 1001, T + 1003);
    const relative = new WindowEstimate();
    relative.observe(info(4, T + 1301), undefined, T + 300, T + 302);
    for (const x of [w, relative])
      expect(x.hold(T + 2001, T + 1500)).toMatchObject({ go: false, wakeInMs: 501 });
  });

  it("learns nothing from windows aligned to whole seconds (the length comes out as 0)", () => {
    const w = new WindowEstimate();
    // a 1 s window from T, opened by a request that arrived at T+300: its reset is T+1000
    w.observe(info(4, T + 1000), undefined, T + 300, T + 302);
    expect(w.hold(T + 1001, T + 500)).toMatchObject({ go: false, wakeInMs: 501 });
  });

  it("does not take the next window's pause for the one proven over (aligned 1 s windows)", () => {
    const w = new WindowEstimate();
    w.observe(info(4, T + 1000), undefined, T + 300, T + 302);
    w.observe(info(4, T + 2000), undefined, T + 1001, T + 1003); // the next window opened: T+1000 is over
    // that window ran out; the ledger's pause from its reset can end a millisecond early
    expect(w.hold(T + 1999, T + 1100)).toMatchObject({ go: false, wakeInMs: 899 });
    expect(w.hold(T + 1001, T + 1100)).toEqual({ go: true }); // the old window's pause holds no one
  });

  it("drops the learning when the probe's answer is from the old window (aligned 2 s windows)", () => {
    const w = new WindowEstimate();
    // a 2 s window from T, opened at T+300: its reset T+2000 makes the length look like 1 s
    w.observe(info(4, T + 2000), undefined, T + 300, T + 302);
    expect(w.hold(T + 2001, T + 1302)).toEqual({ go: true });
    w.observe(info(1, T + 2000), undefined, T + 1302, T + 1304);
    expect(w.learning).toBe(false);
    expect(w.hold(T + 2001, T + 1305)).toMatchObject({ go: false, wakeInMs: 696 });
  });

  it("drops the learning when the probe is refused, and not on a refusal without a probe out", () => {
    const w = learnedOne();
    w.refused(); // a 429 before any probe (another cause): the learning stands
    expect(w.learning).toBe(true);
    expect(w.hold(T + 2001, T + 1302)).toEqual({ go: true });
    w.refused();
    expect(w.learning).toBe(false);
    expect(w.hold(T + 2001, T + 1400)).toMatchObject({ go: false, wakeInMs: 601 });
  });

  it("after a refusal, takes no window as over: the pause holds every call until it ends", () => {
    const w = learnedOne();
    expect(w.hold(T + 2001, T + 1302)).toEqual({ go: true });
    w.observe(info(4, T + 3000), undefined, T + 1302, T + 1304);
    expect(w.hold(T + 2001, T + 1305)).toEqual({ go: true });
    // another process overran the new window, and a call of this one was refused: wait for the pause
    w.refused();
    expect(w.hold(T + 2001, T + 1400)).toMatchObject({ go: false, wakeInMs: 601 });
    expect(w.learning).toBe(true); // no probe of this process was refused
  });

  it("keeps limits apart: a new window of another limit does not release this limit's pause", () => {
    const w = learnedOne();
    // a second limit (30 per minute) whose window was seen to be over: a later one opened
    w.observe(info(29, T + 30_000, 30), "search", undefined, T + 310);
    w.observe(info(29, T + 90_000, 30), "search", undefined, T + 320);
    // the pause is the first limit's (to T+2001): it still waits for that window's estimated end
    expect(w.hold(T + 2001, T + 1000)).toMatchObject({ go: false, wakeInMs: 302 });
    // while a pause at the search window's old reset no longer holds anyone
    expect(w.hold(T + 30_001, T + 1000)).toEqual({ go: true });
  });
});

/** `n` GETs through `workers` loops and one policy (no `rate`), as a header-driven client makes them. */
async function drive(server: FaultServer, n: number, workers: number, extra: Partial<PolicyOptions> = {}) {
  const t = tempLedger();
  cleanups.push(t.cleanup);
  const policy = new ProviderPolicy(
    "api",
    t.ledger.resilience,
    fastPolicy({ concurrency: workers, ...extra }),
    `test:${process.pid}`,
  );
  const client = new HttpClient(policy, { baseUrl: server.url });
  const answers: { remaining: number; reset: number; recvAt: number }[] = [];
  let issued = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (issued < n) {
      issued++;
      try {
        const res = await client.getJson("/products?page=1&per_page=1");
        answers.push({
          remaining: Number(res.headers.get("x-ratelimit-remaining")),
          reset: Number(res.headers.get("x-ratelimit-reset")) * 1000,
          recvAt: Date.now(),
        });
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  // each window's opener (remaining = limit − 1) and the reset the window before it advertised
  const opened = answers.filter((a) => a.remaining === LIMIT - 1).sort((a, b) => a.reset - b.reset);
  const early = opened.slice(1).filter((a, i) => a.recvAt < opened[i]!.reset).length;
  return { failed, answers, windows: opened.length, early, learning: policy.gate.windows.learning };
}

const LIMIT = 5;

describe("a header-driven client against windows that start at a request", () => {
  it("resumes before the rounded reset, with no 429", async () => {
    const server = await startFaultServer({ rateLimit: { requests: LIMIT, windowMs: 1000 } });
    cleanups.push(() => server.close());
    const r = await drive(server, 4 * LIMIT + 1, 2);
    expect(r.failed).toBe(0);
    expect(server.stats.rateLimited).toBe(0);
    expect(server.stats.requests).toBe(4 * LIMIT + 1);
    expect(r.windows).toBe(5);
    // the windows after the first (the one that taught the length) opened before the previous window's
    // advertised reset: at that reset they would have opened after it
    expect(r.early).toBeGreaterThanOrEqual(2);
    expect(r.learning).toBe(true);
  });

  it("resumes before the rounded reset with a token bucket too (the probe's pause is not looked at twice)", async () => {
    const server = await startFaultServer({ rateLimit: { requests: LIMIT, windowMs: 1000 } });
    cleanups.push(() => server.close());
    const rate = { requests: 1000, perSeconds: 1, burst: 1000 };
    const r = await drive(server, 3 * LIMIT + 1, 1, { rate });
    expect(r.failed).toBe(0);
    expect(server.stats.rateLimited).toBe(0);
    expect(r.early).toBeGreaterThanOrEqual(1);
  });

  it("sends no probe with a reserve: nothing goes while the gate is closed", async () => {
    const server = await startFaultServer({ rateLimit: { requests: LIMIT, windowMs: 1000 } });
    cleanups.push(() => server.close());
    const r = await drive(server, 2 * LIMIT + 1, 2, { rateReserve: 0.2 });
    expect(r.failed).toBe(0);
    expect(server.stats.rateLimited).toBe(0);
    expect(r.early).toBe(0);
  });

  it("waits for the reset of windows aligned to whole seconds, with no 429", async () => {
    const server = await startFaultServer({ rateLimit: { requests: LIMIT, windowMs: 1000, aligned: true } });
    cleanups.push(() => server.close());
    const r = await drive(server, 3 * LIMIT + 1, 2);
    expect(r.failed).toBe(0);
    expect(server.stats.rateLimited).toBe(0);
    expect(r.early).toBe(0);
    expect(r.learning).toBe(true); // no length learned (it comes out as 0), so no probe went wrong
  });

  it("spends at most one 429 to unlearn a length that aligned 2 s windows make look like 1 s", async () => {
    const server = await startFaultServer({ rateLimit: { requests: LIMIT, windowMs: 2000, aligned: true } });
    cleanups.push(() => server.close());
    const r = await drive(server, 3 * LIMIT + 1, 2);
    expect(r.failed).toBe(0);
    expect(server.stats.rateLimited).toBeLessThanOrEqual(1);
    expect(r.early).toBe(0);
    expect(r.learning).toBe(false);
  });
});
