// Section 10 (child process): one worker or one planner against the PostgreSQL server, in a process of its own.
//
//   node bench/pg-worker.mjs plan <url> <schema> <n>                 the engine's planPhase: n no-op items
//   node bench/pg-worker.mjs engine <url> <schema> <workers> <leaseMs> [hang] [host=H]
//                                    the engine's processPlan on the open plan, no-op sink (hang: a sink that
//                                    never returns; host: the lease owner's host, default this machine's)
//   node bench/pg-worker.mjs graphile-add <url> <n> <batch>          graphile_worker.add_jobs() in batches
//   node bench/pg-worker.mjs graphile <url> <concurrency>            graphile-worker runOnce, no-op task
//   node bench/pg-worker.mjs pgboss-insert <url> <queue> <n> <batch> pg-boss insert() in batches
//   node bench/pg-worker.mjs pgboss <url> <queue> <batch>            pg-boss fetch(batch) + complete(ids) loop
//
// Workers (engine, graphile, pgboss) connect first, print {"ready":true} and wait for a line on stdin, so
// the parent starts them all at once; each prints one JSON line at the end (times in epoch ms, so the
// parent can compare them across processes; its CPU seconds from the go; its peak RSS).
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { createRequire } from "node:module";
import { emitResult, now } from "./lib.mjs";

const require = createRequire(import.meta.url);
const [mode, ...args] = process.argv.slice(2);
const REF = { job: "bench", phase: "noop", scope: "" };

const maxRss = () => process.resourceUsage().maxRSS;

/** Tells the parent this worker is connected and waits for its go (a line on stdin). */
async function ready() {
  emitResult({ ready: true });
  await new Promise((resolve) => {
    process.stdin.once("data", resolve);
  });
  process.stdin.pause();
  return { at: Date.now(), cpu: process.cpuUsage() };
}

const cpuSince = (start) => {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
};

async function dist(file) {
  return import(new URL(`../dist/${file}`, import.meta.url).href);
}

/** The no-op phase's connectors: fetch → empty content; the sink counts and returns (or never returns). */
function connectors(hang) {
  let applied = 0;
  return {
    applied: () => applied,
    phase: {
      source: {
        type: "bench-noop",
        target: async () => "t1",
        list: async () => ({ mode: "snapshot", items: listing(0) }),
        fetch: async () => ({ content: "" }),
      },
      enrich: [],
      sink: {
        type: "bench-noop",
        apply: hang
          ? () => new Promise(() => undefined)
          : async () => {
              applied++;
              return undefined;
            },
      },
    },
  };
}

async function* listing(count) {
  for (let i = 0; i < count; i++) yield { key: `item-${i}`, version: "1", op: "upsert" };
}

function context(signal) {
  const cache = new Map();
  const refuse = () => {
    throw new Error("no HTTP in the bench");
  };
  return {
    job: REF.job,
    phase: REF.phase,
    baseDir: process.cwd(),
    signal,
    http: refuse,
    ownHttp: refuse,
    cache: {
      get: async (k) => cache.get(k),
      set: async (k, v) => void cache.set(k, v),
    },
    parentKeys: async function* () {},
  };
}

async function openLedger(url, schema) {
  const { openPostgresLedger } = await dist("ledger/postgres/postgres-ledger.js");
  return openPostgresLedger({ url, schema });
}

async function plan([url, schema, n]) {
  const { planPhase } = await dist("engine/plan-phase.js");
  const { EventBus } = await dist("events.js");
  const ledger = await openLedger(url, schema);
  await ledger.plans.checkpoint(REF); // connects and migrates before the clock starts
  const source = {
    ...connectors(false).phase.source,
    list: async () => ({ mode: "snapshot", items: listing(Number(n)) }),
  };
  const t0 = now();
  const out = await planPhase(
    ledger.plans,
    REF,
    source,
    context(new AbortController().signal),
    false,
    new EventBus(),
    undefined,
  );
  const ms = now() - t0;
  const total = Object.values(out.counts ?? {}).reduce((a, b) => a + b, 0);
  await ledger.close();
  if (total !== Number(n)) throw new Error(`planned ${total} items, expected ${n}`);
  emitResult({ mode, planId: out.plan.id, items: total, ms, maxRssKiB: maxRss() });
}

async function engine([url, schema, workers, leaseMs, ...flags]) {
  const { processPlan } = await dist("engine/process-plan.js");
  const { EventBus } = await dist("events.js");
  const hang = flags.includes("hang");
  const host = flags.find((f) => f.startsWith("host="))?.slice(5) ?? hostname();
  const owner = `${host}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const ledger = await openLedger(url, schema);
  const planRecord = await ledger.plans.findPlan(REF, "open");
  if (!planRecord) throw new Error("no open plan to process");
  const c = connectors(hang);
  // when this worker last wrote settlements (with a claim or alone): its last item made terminal
  let settledAt;
  // and how long its claims and settlements took (round trips the workers wait for)
  const calls = { claims: 0, claimMs: 0, maxClaimMs: 0, claimed: 0, settles: 0, settleMs: 0 };
  const timed = {
    claim: async (...a) => {
      const t = now();
      const out = await ledger.plans.claim(...a);
      const ms = now() - t;
      calls.claims++;
      calls.claimMs += ms;
      calls.maxClaimMs = Math.max(calls.maxClaimMs, ms);
      calls.claimed += out.length;
      if (a[4]?.length) settledAt = Date.now();
      return out;
    },
    settle: async (s) => {
      const t = now();
      await ledger.plans.settle(s);
      calls.settles++;
      calls.settleMs += now() - t;
      if (s.length) settledAt = Date.now();
    },
  };
  const plans = new Proxy(ledger.plans, {
    get: (target, prop) =>
      timed[prop] ?? (typeof target[prop] === "function" ? target[prop].bind(target) : target[prop]),
  });
  const events = new EventBus();
  let requeued = 0;
  events.on((e) => {
    if (e.type === "leases:requeued") requeued += e.count;
  });
  const options = {
    plans,
    connectors: c.phase,
    ctx: context(new AbortController().signal),
    owner,
    workers: Number(workers),
    leaseMs: Number(leaseMs),
    events,
    progressIntervalMs: 2000,
    pauseOnRateLimit: true,
    breakers: ledger.resilience,
    force: false,
    maxRetries: 5,
    retryWaitMs: 1000,
    rateLimitWaitMs: 60_000,
  };
  const go = await ready();
  await processPlan(planRecord, options);
  const endedAt = Date.now();
  const cpuSeconds = cpuSince(go.cpu);
  await ledger.close();
  emitResult({
    mode,
    startedAt: go.at,
    settledAt: settledAt ?? endedAt,
    endedAt,
    applied: c.applied(),
    requeued,
    calls,
    cpuSeconds,
    maxRssKiB: maxRss(),
  });
}

/** graphile_worker.add_jobs() with the specs as one JSON parameter per batch (the bulk path, one statement). */
async function graphileAdd([url, n, batch]) {
  const { runMigrations } = require("graphile-worker");
  const pgPool = new (require("pg").Pool)({ connectionString: url, max: 1 });
  await runMigrations({ pgPool, logger: quietLogger() });
  const total = Number(n);
  const size = Number(batch);
  const t0 = now();
  for (let i = 0; i < total; i += size) {
    const specs = [];
    for (let j = i; j < Math.min(total, i + size); j++)
      specs.push({ identifier: "noop", payload: { key: `item-${j}` } });
    await pgPool.query(
      `SELECT count(*) FROM graphile_worker.add_jobs(
         ARRAY(SELECT json_populate_recordset(NULL::graphile_worker.job_spec, $1::json)))`,
      [JSON.stringify(specs)],
    );
  }
  const ms = now() - t0;
  await pgPool.end();
  emitResult({ mode, items: total, ms, maxRssKiB: maxRss() });
}

function quietLogger() {
  const { Logger } = require("graphile-worker");
  return new Logger(() => (level, message) => {
    if (level === "error") process.stderr.write(`graphile-worker: ${message}\n`);
  });
}

async function graphile([url, concurrency]) {
  const { runOnce } = require("graphile-worker");
  const n = Number(concurrency);
  // its pool, connected before the go (runOnce uses a pool it is given)
  const pgPool = new (require("pg").Pool)({ connectionString: url, max: n + 2 });
  await Promise.all(Array.from({ length: n + 1 }, () => pgPool.query("SELECT 1")));
  let done = 0;
  const go = await ready();
  await runOnce({
    pgPool,
    concurrency: n,
    noHandleSignals: true,
    logger: quietLogger(),
    taskList: {
      noop: async () => {
        done++;
      },
    },
  });
  const endedAt = Date.now();
  const cpuSeconds = cpuSince(go.cpu);
  await pgPool.end();
  emitResult({ mode, startedAt: go.at, endedAt, applied: done, cpuSeconds, maxRssKiB: maxRss() });
}

async function boss(url) {
  const { default: PgBoss } = await import("pg-boss");
  const b = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false, migrate: false });
  b.on("error", (e) => process.stderr.write(`pg-boss: ${e.message}\n`));
  await b.start();
  return b;
}

async function pgbossInsert([url, queue, n, batch]) {
  const { default: PgBoss } = await import("pg-boss");
  const b = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false });
  await b.start();
  await b.createQueue(queue);
  const total = Number(n);
  const size = Number(batch);
  const t0 = now();
  for (let i = 0; i < total; i += size) {
    const jobs = [];
    for (let j = i; j < Math.min(total, i + size); j++)
      jobs.push({ name: queue, data: { key: `item-${j}` } });
    await b.insert(jobs);
  }
  const ms = now() - t0;
  await b.stop({ graceful: false, wait: true });
  emitResult({ mode, items: total, ms, maxRssKiB: maxRss() });
}

async function pgboss([url, queue, batch]) {
  const b = await boss(url);
  const size = Number(batch);
  let done = 0;
  let rounds = 0;
  const go = await ready();
  for (;;) {
    const jobs = await b.fetch(queue, { batchSize: size });
    if (jobs.length === 0) break;
    rounds++;
    done += jobs.length; // the no-op handler
    await b.complete(
      queue,
      jobs.map((j) => j.id),
    );
  }
  const endedAt = Date.now();
  const cpuSeconds = cpuSince(go.cpu);
  await b.stop({ graceful: false, wait: true });
  emitResult({ mode, startedAt: go.at, endedAt, applied: done, rounds, cpuSeconds, maxRssKiB: maxRss() });
}

const modes = {
  plan,
  engine,
  "graphile-add": graphileAdd,
  graphile,
  "pgboss-insert": pgbossInsert,
  pgboss,
};

if (!modes[mode]) {
  process.stderr.write(`pg-worker: unknown mode ${mode}\n`);
  process.exit(2);
}
await modes[mode](args);
// pools and timers of the peers may linger; the result is out
process.exit(0);
