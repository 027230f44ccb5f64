import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EventBus } from "../src/events.js";
import { HttpClient } from "../src/resilience/http-client.js";
import { ProviderPolicy } from "../src/resilience/policy.js";
import { fastPolicy, tempLedger } from "./helpers/resilience.js";

// With calls in flight capped across processes, an answer that leaves no more than the other slots'
// worth of the window closes the gate before its slot is freed. A call that read the gate open, then
// took that freed slot at once, must look again: else it goes while the gate is closed (a 403 at GitHub).

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A loopback server holding each /hold/NAME request until released, answering with a rate-limit window. */
async function holdingServer(): Promise<{
  url: string;
  arrived: Map<string, number>;
  release: (name: string, remaining: number, resetAt: number) => void;
}> {
  const held = new Map<string, ServerResponse>();
  const arrived = new Map<string, number>();
  const server = createServer((req, res) => {
    const name = req.url!.replace(/^\/hold\//, "");
    arrived.set(name, Date.now());
    held.set(name, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrived,
    release: (name, remaining, resetAt) =>
      held
        .get(name)!
        .writeHead(200, {
          "content-type": "application/json",
          "x-ratelimit-limit": "10",
          "x-ratelimit-remaining": String(remaining),
          "x-ratelimit-reset": String(Math.ceil(resetAt / 1000)),
        })
        .end("{}"),
  };
}

describe("a shared in-flight cap and the rate gate", () => {
  it("a call that read the gate open and then took a slot freed by the answer that closed it waits for the reset", async () => {
    const t = tempLedger();
    cleanups.push(t.cleanup);
    const server = await holdingServer();
    const policy = new ProviderPolicy(
      "gh",
      t.ledger.resilience,
      fastPolicy({ concurrency: 2, sharedConcurrency: true }),
      "owner-a",
      new EventBus(),
    );
    const client = new HttpClient(policy, { baseUrl: server.url });
    const call = (name: string): Promise<unknown> => client.getJson(`/hold/${name}`);

    // both slots taken; a third call reads the gate (open) and waits for a slot
    const first = call("first");
    const second = call("second");
    for (let i = 0; i < 200 && server.arrived.size < 2; i++) await sleep(10);
    expect([...server.arrived.keys()].sort()).toEqual(["first", "second"]);
    const third = call("third");
    await sleep(100);
    expect(server.arrived.has("third")).toBe(false);

    // the first answer leaves 1 of the window, and 1 call (the second) is still in flight: the gate
    // closes until the reset, before the first's slot is freed for the third
    const resetAt = Date.now() + 2500;
    server.release("first", 1, resetAt);
    await first;
    const gate = (await t.ledger.resilience.readGate("gh")).record;
    expect(gate?.pausedUntil).toBeGreaterThan(Date.now());
    server.release("second", 0, resetAt);
    await second;
    for (let i = 0; i < 600 && !server.arrived.has("third"); i++) await sleep(10);
    // the third went only once the window had reset
    expect(server.arrived.get("third")).toBeGreaterThanOrEqual(gate!.pausedUntil - 5);
    server.release("third", 9, Date.now() + 60_000);
    await third;
  }, 30_000);
});
