import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isBrokenCircuitError } from "../src/errors.js";
import { EventBus, type EventOf } from "../src/events.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { CircuitBreaker, type BreakerOptions } from "../src/resilience/circuit-breaker.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { tempLedger } from "./helpers/resilience.js";
import { ROOT } from "./helpers/workspace.js";

const OPTS: BreakerOptions = {
  failureThreshold: 3,
  successThreshold: 2,
  timeoutMs: 300,
  maxTimeoutMs: 3000,
  halfOpenMaxCalls: 1,
  probeLeaseMs: 10_000,
};

describe("circuit breaker shared through the ledger", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it("walks closed → open → half-open → open (doubled) → half-open → closed on the ledger's clock", async () => {
    const t = tempLedger();
    cleanups.push(t.cleanup);
    const transitions: EventOf<"breaker:transition">[] = [];
    const bus = new EventBus();
    bus.on((e) => {
      if (e.type === "breaker:transition") transitions.push(e);
    });
    const b = new CircuitBreaker("openai", t.ledger.resilience, OPTS, "host:1:a", bus);
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

    for (let i = 0; i < 2; i++) await b.failure(await b.acquire(), "503");
    expect((await b.state()).state).toBe("closed");
    // a success resets the consecutive count
    await b.success(await b.acquire());
    expect((await b.state()).failures).toBe(0);
    for (let i = 0; i < 3; i++) await b.failure(await b.acquire(), "503");
    const opened = await b.state();
    expect(opened).toMatchObject({ state: "open" });
    expect(opened.openUntil! - opened.openedAt!).toBe(300);
    await expect(b.acquire()).rejects.toSatisfy(isBrokenCircuitError);

    await sleep(320);
    const probe = await b.acquire();
    expect(probe.probeId).toBeDefined();
    expect((await b.state()).state).toBe("half_open");
    // only one probe at a time
    await expect(b.acquire()).rejects.toSatisfy(isBrokenCircuitError);
    await b.failure(probe, "still 503");
    const reopened = await b.state();
    expect(reopened).toMatchObject({ state: "open", reopenCount: 1 });
    // the open period doubles on each re-open
    expect(reopened.openUntil! - reopened.openedAt!).toBe(600);

    await sleep(320);
    await expect(b.acquire()).rejects.toSatisfy(isBrokenCircuitError);
    await sleep(320);
    await b.success(await b.acquire());
    expect((await b.state()).state).toBe("half_open");
    await b.success(await b.acquire());
    expect(await b.state()).toMatchObject({ state: "closed", failures: 0, reopenCount: 0 });
    expect(transitions.map((x) => `${x.from}→${x.to}`)).toEqual([
      "closed→open",
      "open→half_open",
      "half_open→open",
      "open→half_open",
      "half_open→closed",
    ]);
    expect(transitions[0]!.reason).toContain("3 consecutive failures");
  });

  it("keeps its state across a restart, and a closed breaker writes nothing on success", async () => {
    const t = tempLedger();
    cleanups.push(t.cleanup);
    const b = new CircuitBreaker("github", t.ledger.resilience, OPTS, "host:1:a");
    for (let i = 0; i < 3; i++) await b.failure(await b.acquire(), "502");
    await t.ledger.close();

    const reopened = openSqliteLedger(t.file);
    cleanups.push(() => reopened.close());
    const again = new CircuitBreaker("github", reopened.resilience, OPTS, "host:2:b");
    expect((await again.state()).state).toBe("open");
    await expect(again.acquire()).rejects.toSatisfy(isBrokenCircuitError);

    await again.reset();
    const before = (await reopened.resilience.readBreaker("github")).record!;
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 50; i++) await again.success(await again.acquire());
    // the row was not written again: same record, same update time
    expect((await reopened.resilience.readBreaker("github")).record).toEqual(before);
  });

  it("isolate holds it open until reset", async () => {
    const t = tempLedger();
    cleanups.push(t.cleanup);
    const b = new CircuitBreaker("x", t.ledger.resilience, OPTS, "h:1:a");
    await b.isolate();
    // past any open period: an isolated breaker has none
    await new Promise((r) => setTimeout(r, OPTS.timeoutMs + 50));
    await expect(b.acquire()).rejects.toSatisfy(isBrokenCircuitError);
    await b.reset();
    await expect(b.acquire()).resolves.toMatchObject({ failures: 0 });
  });

  it("two real processes share one breaker: while open neither calls, in half-open exactly one probes", async () => {
    const t = tempLedger();
    cleanups.push(t.cleanup);
    const server: FaultServer = await startFaultServer({ script: () => ({ kind: "status", status: 503 }) });
    cleanups.push(() => server.close());
    const script = path.join(t.dir, "worker.mjs");
    writeFileSync(
      script,
      `import { openLedger } from ${JSON.stringify(path.join(ROOT, "dist/index.js"))};
import { ProviderPolicy } from ${JSON.stringify(path.join(ROOT, "dist/resilience/policy.js"))};
const [stateDir, url, calls, gap] = process.argv.slice(2);
const ledger = openLedger({ stateDir });
const policy = new ProviderPolicy("api", ledger.resilience, {
  retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, exponentialBase: 2, jitter: "none", budgetMs: 60000 },
  breaker: { failureThreshold: 3, successThreshold: 1, timeoutMs: 6000, maxTimeoutMs: 6000, halfOpenMaxCalls: 1, probeLeaseMs: 10000 },
  timeoutMs: 5000, concurrency: 4, pauseOnRateLimit: true, rateLimitWaitMs: 100, enabled: true, classify: {},
}, "host:" + process.pid + ":w");
const out = [];
for (let i = 0; i < Number(calls); i++) {
  try {
    await policy.execute(async (signal) => { const r = await fetch(url + "/products", { signal }); if (!r.ok) { const e = new Error("status " + r.status); e.code = "ECONNRESET"; throw e; } return r; });
    out.push("ok");
  } catch (e) { out.push(e.code === "CIRCUIT_OPEN" ? "open" : "fail"); }
  await new Promise((r) => setTimeout(r, Number(gap)));
}
console.log(JSON.stringify(out));
await ledger.close();
`,
    );
    const run = (calls: number, gap: number): Promise<string[]> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [script, t.dir, server.url, String(calls), String(gap)], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (b: Buffer) => (out += b.toString()));
        child.on("error", reject);
        child.on("close", () => resolve(JSON.parse(out) as string[]));
      });

    // process A trips the breaker; process B, started after, never reaches the server while it is open (6 s:
    // longer than a process takes to start on a loaded machine, which a 2 s period was not)
    const a = await run(3, 0);
    expect(a).toEqual(["fail", "fail", "fail"]);
    expect(server.stats.requests).toBe(3);
    const b = await run(5, 0);
    expect(b).toEqual(["open", "open", "open", "open", "open"]);
    expect(server.stats.requests).toBe(3);

    // after the open period both hammer it at once: exactly one probe reaches the server (it fails,
    // so the breaker re-opens and every other call of both processes is refused)
    await new Promise((r) => setTimeout(r, 6200));
    const [x, y] = await Promise.all([run(3, 20), run(3, 20)]);
    expect(server.stats.requests - 3).toBe(1);
    expect([...x, ...y].sort()).toEqual(["fail", "open", "open", "open", "open", "open"]);

    // the next open period ends; a healthy server closes it again for everyone
    await new Promise((r) => setTimeout(r, 6200));
    server.setScript(undefined);
    const healed = await run(1, 0);
    expect(healed).toEqual(["ok"]);
    expect(await run(2, 0)).toEqual(["ok", "ok"]);
  });
});
