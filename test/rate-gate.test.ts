import { afterEach, describe, expect, it } from "vitest";
import type { Ledger } from "../src/ledger/ledger.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { RateGate } from "../src/resilience/rate-gate.js";
import { tempLedger } from "./helpers/resilience.js";

// A provider's `rate:` token bucket lives in the ledger: every gate on the same state file (every
// process) draws from it. Waiting callers reserve a slot each, so the rate is never exceeded and
// calls are not lost to timers that fire late.

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** Two ledgers on one state file, as two processes would have. */
function twoLedgers(): [Ledger, Ledger] {
  const t = tempLedger();
  const other = openSqliteLedger(t.file);
  cleanups.push(t.cleanup, () => other.close());
  return [t.ledger, other];
}

const RATE = { requests: 20, perSeconds: 1, burst: 1 }; // a slot every 50 ms

describe("rate gate with a shared token bucket", () => {
  it("releases callers waiting in two processes at one slot each, never faster than the rate", async () => {
    const [a, b] = twoLedgers();
    const gates = [a, b].map((l) => new RateGate("api", l.resilience, { rate: RATE, inFlight: 4 }));
    const t0 = performance.now();
    const released = await Promise.all(
      Array.from({ length: 8 }, (_, i) => gates[i % 2]!.wait().then(() => performance.now() - t0)),
    );
    released.sort((x, y) => x - y);
    // the first at once (a full bucket of 1), the i-th no earlier than its slot (1 ms of rounding)
    released.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(i * 50 - 1));
    // eight callers, eight slots: the bucket is in debt by the seven reserved after the first token
    const gate = (await a.resilience.readGate("api")).record;
    expect(gate!.tokens).toBeLessThan(0);
  });

  it("waits out a pause set while a caller waited for its slot, and takes no second slot for it", async () => {
    const [a, b] = twoLedgers();
    const gate = new RateGate("api", a.resilience, { rate: RATE, inFlight: 1 });
    await gate.wait(); // the bucket's one token
    const t0 = Date.now();
    const waiting = gate.wait().then(() => Date.now()); // reserves the next slot, 50 ms on
    await new RateGate("api", b.resilience, { inFlight: 1 }).pause(300, "429 seen by another process");
    expect(await waiting).toBeGreaterThanOrEqual(t0 + 300);
    // the bucket holds what that call's one reservation left (about -1); a second reservation after
    // the pause would have found it refilled and left 0
    const tokens = (await a.resilience.readGate("api")).record!.tokens!;
    expect(tokens).toBeCloseTo(-1, 0);
  });

  it("returns at once when the caller's signal aborts while it waits", async () => {
    const [a] = twoLedgers();
    const gate = new RateGate("api", a.resilience, {
      rate: { requests: 1, perSeconds: 60, burst: 1 },
      inFlight: 1,
    });
    await gate.wait();
    const abort = new AbortController();
    const waiting = gate.wait(abort.signal);
    setTimeout(() => abort.abort(), 20);
    const t0 = Date.now();
    await waiting;
    expect(Date.now() - t0).toBeLessThan(30_000); // not the minute its slot is away
  });
});
