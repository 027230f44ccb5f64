// Section 10: the engine on the PostgreSQL ledger with several worker processes, beside graphile-worker and
// pg-boss on the same server in the same run (BENCH_ONLY=postgres; not in the default set).
//   10a  N worker processes (1, 2, 4, 8) drain one 20,000-item plan: processPlan with a no-op sink; graphile-worker
//        runOnce (concurrency 4 per process) on 20,000 no-op jobs; pg-boss fetch(100) + complete(ids) loops
//   10b  planning 1,000,000 items (the engine's planPhase → recordItems) beside graphile_worker.add_jobs()
//        and pg-boss insert(), in batches of 2,000
//   10c  a worker SIGKILLed while it holds a claimed batch: until another worker has completed its items
//   10d  peak RSS of one worker process processing the 1,000,000-item plan of 10b
// For each 10a run: commits (pg_stat_database.xact_commit of the bench's database), WAL fsyncs
// (pg_stat_wal.wal_sync), the server's CPU (/proc) and the workers' CPU, and what the active backends were
// waiting on (pg_stat_activity sampled every 20 ms from a connection to another database).
import { spawn } from "node:child_process";
import os from "node:os";
import { createInterface } from "node:readline";
import path from "node:path";
import pg from "pg";
import { BENCH_DIR, ROOT, benchScale, cleanEnv, log, median, scaled } from "./lib.mjs";
import { serverCpuSeconds, startBenchPostgres } from "./pg-cluster.mjs";

const SCALE = benchScale();
const ROUNDS = Math.max(1, Number(process.env.BENCH_PG_REPS ?? 3) || 3);
// 10c's plan is one claim batch (256): the victim holds all of it, so the survivor has nothing else to do
const SIZES = { drain: scaled(20_000), plan: scaled(1_000_000), failover: 256 };
const PROCESSES = [1, 2, 4, 8];
const IN_FLIGHT = 4; // max_workers' default: items in flight per engine process, graphile's concurrency
const PEER_BATCH = 100; // pg-boss fetch(100)
const RECORD_BATCH = 2000; // the engine records listings in batches of 2,000 (plan-phase.ts); the peers alike
const LEASE_MS = 120_000; // lease_seconds' default
// processPlan polls for items other workers hold every min(1 s, lease / 4) (process-plan.ts)
const FAILOVER = { leaseMs: 5_000, pollMs: Math.min(1000, Math.max(50, 5_000 / 4)) };
const TARGETS = { itemsPerSecondAt4: 10_000, peakBytes: 200e6 };
const SCRIPT = path.join(BENCH_DIR, "pg-worker.mjs");
const MONITOR_DB = "bench_monitor";
// which of 10a's contenders run, and which parts (a, b, c, d): everything by default
const CONTENDERS = (process.env.BENCH_PG_CONTENDERS ?? "engine,graphile,pgboss")
  .split(",")
  .map((s) => s.trim());
const PARTS = new Set((process.env.BENCH_PG_PARTS ?? "a,b,c,d").split(",").map((s) => s.trim()));

const int = (n) => Math.round(n).toLocaleString("en-US");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- child processes ---------------------------------------------------------------------------

/** Spawns `node pg-worker.mjs args`; `ready` resolves at its {"ready":true} line, `done` with its last JSON line. */
function worker(args) {
  const child = spawn(process.execPath, [SCRIPT, ...args], {
    env: cleanEnv(),
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const lines = [];
  let onReady;
  const ready = new Promise((resolve) => (onReady = resolve));
  createInterface({ input: child.stdout }).on("line", (l) => {
    if (l.trim() === "") return;
    let msg;
    try {
      msg = JSON.parse(l);
    } catch {
      return;
    }
    if (msg.ready) onReady();
    else lines.push(msg);
  });
  let stderr = "";
  child.stderr.on("data", (b) => {
    stderr += b.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const done = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0 && lines.length > 0) resolve(lines.at(-1));
      else reject(new Error(`pg-worker ${args[0]} exited ${code ?? signal}:\n${stderr.slice(-3000)}`));
    });
  });
  done.catch(() => undefined);
  const readyOrEnded = Promise.race([
    ready,
    done.then(() => Promise.reject(new Error(`pg-worker ${args[0]} ended before it was ready`))),
  ]);
  readyOrEnded.catch(() => undefined);
  return {
    child,
    ready: readyOrEnded,
    done,
    go: () => child.stdin.end("go\n"),
  };
}

/** A one-shot child (planning, bulk adds): its JSON line. */
const oneShot = (args) => worker(args).done;

// ---- server statistics -------------------------------------------------------------------------

async function client(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** Commits, WAL and server CPU so far (the bench's database; the monitor sits in another one). */
async function snapshot(server, admin) {
  const db = (
    await admin.query(
      "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()",
    )
  ).rows[0];
  const wal = (await admin.query("SELECT wal_records, wal_bytes, wal_write, wal_sync FROM pg_stat_wal"))
    .rows[0];
  return {
    commits: Number(db.xact_commit),
    rollbacks: Number(db.xact_rollback),
    walRecords: Number(wal.wal_records),
    walBytes: Number(wal.wal_bytes),
    walWrites: Number(wal.wal_write),
    walSyncs: Number(wal.wal_sync),
    serverCpuSeconds: server.local ? serverCpuSeconds(server.postmasterPid) : undefined,
  };
}

/**
 * Samples what the bench database's client backends are doing every 20 ms: active ones by wait event (CPU when
 * none), and how many sit idle (waiting for their client) or idle in a transaction.
 */
function sampler(monitor, dbName) {
  const counts = {};
  let samples = 0;
  let activeSum = 0;
  let idleSum = 0;
  let idleInTxSum = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await monitor.query(
        `SELECT state, coalesce(wait_event_type, 'CPU') AS t, coalesce(wait_event, 'running') AS e, count(*)::int AS n
           FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = $1 GROUP BY 1, 2, 3`,
        [dbName],
      );
      samples++;
      for (const r of rows) {
        if (r.state === "active") {
          activeSum += r.n;
          const k = `${r.t}:${r.e}`;
          counts[k] = (counts[k] ?? 0) + r.n;
        } else if (r.state === "idle") idleSum += r.n;
        else if (r.state?.startsWith("idle in transaction")) idleInTxSum += r.n;
      }
      await sleep(20);
    }
  })();
  return async () => {
    running = false;
    await loop;
    const waits = Object.fromEntries(
      Object.entries(counts)
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => [k, activeSum > 0 ? n / activeSum : 0]),
    );
    return {
      samples,
      meanActive: samples > 0 ? activeSum / samples : 0,
      meanIdle: samples > 0 ? idleSum / samples : 0,
      meanIdleInTransaction: samples > 0 ? idleInTxSum / samples : 0,
      waits,
    };
  };
}

/** Starts every worker at once and measures from the go to the last one's end. */
async function drain(server, admin, monitor, argsOf, n) {
  const ws = Array.from({ length: n }, (_, i) => worker(argsOf(i)));
  await Promise.all(ws.map((w) => w.ready));
  const before = await snapshot(server, admin);
  const loadBefore = os.loadavg()[0];
  const stop = sampler(monitor, "postgres");
  const goAt = Date.now();
  for (const w of ws) w.go();
  const results = await Promise.all(ws.map((w) => w.done));
  const waits = await stop();
  await sleep(300); // backends of the closed connections exit and flush their statistics
  const after = await snapshot(server, admin);
  // the engine's workers say when they last settled (its last item made terminal); a worker then waits up to
  // a poll (1 s) for items others still hold before it ends, which is not drain time. The peers end at once.
  const wallMs = Math.max(...results.map((r) => r.settledAt ?? r.endedAt)) - goAt;
  const exitMs = Math.max(...results.map((r) => r.endedAt)) - goAt;
  const d = (k) => (after[k] ?? 0) - (before[k] ?? 0);
  return {
    wallMs,
    exitMs,
    // the machine's 1-minute load average at the go and at the end (other work on the 2 cores shows here)
    load: [loadBefore, os.loadavg()[0]],
    processes: results,
    applied: results.reduce((a, r) => a + r.applied, 0),
    commits: d("commits"),
    rollbacks: d("rollbacks"),
    walRecords: d("walRecords"),
    walBytes: d("walBytes"),
    walSyncs: d("walSyncs"),
    serverCpuSeconds: server.local ? d("serverCpuSeconds") : undefined,
    workersCpuSeconds: results.reduce((a, r) => a + r.cpuSeconds, 0),
    peakRssKiB: Math.max(...results.map((r) => r.maxRssKiB)),
    activity: waits,
  };
}

// ---- 10a ---------------------------------------------------------------------------------------

async function engineDrain(server, admin, monitor, n, round) {
  const schema = `e_${n}_${round}`;
  await oneShot(["plan", server.url, schema, String(SIZES.drain)]);
  const r = await drain(
    server,
    admin,
    monitor,
    () => ["engine", server.url, schema, String(IN_FLIGHT), String(LEASE_MS)],
    n,
  );
  const { rows } = await admin.query(
    `SELECT status, count(*)::int AS n FROM "${schema}".items GROUP BY status`,
  );
  const byStatus = Object.fromEntries(rows.map((x) => [x.status, x.n]));
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  if (byStatus.COMPLETED !== SIZES.drain || r.applied !== SIZES.drain)
    throw new Error(
      `engine, ${n} processes: ${JSON.stringify(byStatus)}, ${r.applied} applied; expected ${SIZES.drain}`,
    );
  return r;
}

async function graphileDrain(server, admin, monitor, n) {
  await oneShot(["graphile-add", server.url, String(SIZES.drain), String(RECORD_BATCH)]);
  const r = await drain(server, admin, monitor, () => ["graphile", server.url, String(IN_FLIGHT)], n);
  const left = (await admin.query("SELECT count(*)::int AS n FROM graphile_worker._private_jobs")).rows[0].n;
  if (left !== 0 || r.applied !== SIZES.drain)
    throw new Error(
      `graphile-worker, ${n} processes: ${r.applied} run, ${left} left; expected ${SIZES.drain}`,
    );
  return r;
}

async function pgbossDrain(server, admin, monitor, n, round) {
  const queue = `q_${n}_${round}`;
  await oneShot(["pgboss-insert", server.url, queue, String(SIZES.drain), String(RECORD_BATCH)]);
  const r = await drain(server, admin, monitor, () => ["pgboss", server.url, queue, String(PEER_BATCH)], n);
  const done = (
    await admin.query("SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'", [
      queue,
    ])
  ).rows[0].n;
  await admin.query("SELECT pgboss.delete_queue($1)", [queue]).catch(() => undefined);
  if (done !== SIZES.drain || r.applied !== SIZES.drain)
    throw new Error(
      `pg-boss, ${n} processes: ${r.applied} fetched, ${done} completed; expected ${SIZES.drain}`,
    );
  return r;
}

function summarise(runs, items) {
  if (runs.length === 0) return undefined;
  const ms = median(runs.map((r) => r.wallMs));
  const mid = runs.find((r) => r.wallMs === ms) ?? runs[Math.floor(runs.length / 2)];
  return {
    ms,
    itemsPerSecond: items / (ms / 1000),
    rounds: runs.map((r) => r.wallMs),
    median: mid, // the round whose time is the median: its commits, CPU and waits
    peakRssKiB: Math.max(...runs.map((r) => r.peakRssKiB)),
  };
}

// ---- 10c ---------------------------------------------------------------------------------------

/**
 * A victim (its sink never returns) is released first; once it holds the plan's items (one claim batch), a
 * survivor is released, finds every item held and polls for them (processPlan: every min(1 s, lease / 4),
 * taking over expired leases, and at once those of a dead pid on this host); 300 ms later the victim is
 * SIGKILLed, and the clock runs until every one of its items is COMPLETED. `foreign`: the victim's owner names
 * another host, so only its lease's expiry frees them (as for a worker on another machine).
 */
async function failover(server, admin, foreign) {
  const schema = `c_${foreign ? "lease" : "pid"}`;
  const n = SIZES.failover;
  await oneShot(["plan", server.url, schema, String(n)]);
  const common = [String(IN_FLIGHT), String(FAILOVER.leaseMs)];
  const victim = worker([
    "engine",
    server.url,
    schema,
    ...common,
    "hang",
    ...(foreign ? ["host=bench-other-host"] : []),
  ]);
  const survivor = worker(["engine", server.url, schema, ...common]);
  await Promise.all([victim.ready, survivor.ready]);
  victim.go();
  const pid = victim.child.pid;
  let held = [];
  for (const t0 = Date.now(); held.length === 0; await sleep(5)) {
    if (Date.now() - t0 > 30_000) throw new Error("the victim claimed nothing in 30 s");
    held = (
      await admin.query(
        `SELECT id FROM "${schema}".items WHERE status = 'PROCESSING' AND lease_owner LIKE $1`,
        [`%:${pid}:%`],
      )
    ).rows.map((r) => Number(r.id));
  }
  // the survivor finds every item held, so it is in its poll for others' items when the victim dies
  survivor.go();
  await sleep(300);
  const lease = (
    await admin.query(
      `SELECT max(lease_expires_at) - (extract(epoch from clock_timestamp()) * 1000)::bigint AS left_ms
         FROM "${schema}".items WHERE id = ANY($1::bigint[])`,
      [held],
    )
  ).rows[0];
  victim.child.kill("SIGKILL");
  const killedAt = Date.now();
  await victim.done.catch(() => undefined);
  let freedAt;
  let doneAt;
  for (;;) {
    const { rows } = await admin.query(
      `SELECT status, count(*)::int AS n FROM "${schema}".items WHERE id = ANY($1::bigint[]) GROUP BY status`,
      [held],
    );
    const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    if (freedAt === undefined && !by.PROCESSING) freedAt = Date.now();
    if (by.COMPLETED === held.length) {
      doneAt = Date.now();
      break;
    }
    if (Date.now() - killedAt > 60_000)
      throw new Error(`the victim's items were not completed in 60 s: ${JSON.stringify(by)}`);
    await sleep(5);
  }
  const s = await survivor.done;
  const total = (
    await admin.query(`SELECT count(*)::int AS n FROM "${schema}".items WHERE status = 'COMPLETED'`)
  ).rows[0].n;
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  if (total !== n) throw new Error(`failover: ${total} of ${n} items completed`);
  const leaseLeftMs = Number(lease.left_ms);
  return {
    foreignHost: foreign,
    items: n,
    held: held.length,
    leaseMs: FAILOVER.leaseMs,
    pollMs: FAILOVER.pollMs,
    leaseLeftAtKillMs: leaseLeftMs,
    killToFreedMs: (freedAt ?? doneAt) - killedAt,
    killToDoneMs: doneAt - killedAt,
    bound: foreign ? leaseLeftMs + FAILOVER.pollMs : FAILOVER.pollMs,
    boundWorstCase: foreign ? FAILOVER.leaseMs + FAILOVER.pollMs : FAILOVER.pollMs,
    survivor: { requeued: s.requeued, applied: s.applied },
  };
}

// ---- the section -------------------------------------------------------------------------------

export async function benchPostgres() {
  const server = await startBenchPostgres();
  log(
    `[10] PostgreSQL ${server.version} (${server.local ? "throwaway cluster" : "SYNCWARDEN_BENCH_PG_URL"}), ${JSON.stringify(server.settings)}`,
  );
  const admin = await client(server.url);
  try {
    await admin.query(`CREATE DATABASE ${MONITOR_DB}`).catch(() => undefined);
    const monitorUrl = new URL(server.url);
    monitorUrl.pathname = `/${MONITOR_DB}`;
    const monitor = await client(monitorUrl.toString());
    try {
      return await sections(server, admin, monitor);
    } finally {
      await monitor.end();
    }
  } finally {
    await admin.end();
    await server.stop();
  }
}

async function sections(server, admin, monitor) {
  const drainN = SIZES.drain;
  const a = {};
  for (const n of PARTS.has("a") ? PROCESSES : []) {
    const runs = { engine: [], graphile: [], pgboss: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // the order of the three rotates each round
      const order = ["engine", "graphile", "pgboss"].filter((w) => CONTENDERS.includes(w));
      for (let k = 0; k < round % 3; k++) order.push(order.shift());
      for (const who of order) {
        const r =
          who === "engine"
            ? await engineDrain(server, admin, monitor, n, round)
            : who === "graphile"
              ? await graphileDrain(server, admin, monitor, n)
              : await pgbossDrain(server, admin, monitor, n, round);
        runs[who].push(r);
        log(
          `[10a] ${who}, ${n} process(es), round ${round + 1}/${ROUNDS}: ${int(drainN / (r.wallMs / 1000))} items/s ` +
            `(${r.wallMs} ms), ${int(r.commits)} commits, ${int(r.walSyncs)} WAL fsyncs, CPU server ` +
            `${r.serverCpuSeconds?.toFixed(1) ?? "?"} s + workers ${r.workersCpuSeconds.toFixed(1)} s, ` +
            `waits ${JSON.stringify(
              Object.entries(r.activity.waits)
                .slice(0, 3)
                .map(([k, v]) => `${k} ${(v * 100).toFixed(0)}%`),
            )}`,
        );
      }
    }
    a[n] = {
      engine: summarise(runs.engine, drainN),
      graphile: summarise(runs.graphile, drainN),
      pgboss: summarise(runs.pgboss, drainN),
    };
  }

  // 10b: planning 1,000,000 items; the peers' bulk adds (10d works the plan 10b made)
  let plan;
  let memory;
  if (PARTS.has("b") || PARTS.has("d")) {
    log(`[10b] planning ${int(SIZES.plan)} items (planPhase → recordItems, batches of ${RECORD_BATCH})`);
    const planned = await oneShot(["plan", server.url, "big", String(SIZES.plan)]);
    log(`      ${int(SIZES.plan / (planned.ms / 1000))} items/s (${Math.round(planned.ms)} ms)`);
    const fig = (r) => ({ ms: r.ms, itemsPerSecond: SIZES.plan / (r.ms / 1000), peakRssKiB: r.maxRssKiB });
    plan = { items: SIZES.plan, engine: fig(planned) };
    if (PARTS.has("b") && CONTENDERS.includes("graphile")) {
      await admin.query("DROP SCHEMA IF EXISTS graphile_worker CASCADE");
      const g = await oneShot(["graphile-add", server.url, String(SIZES.plan), String(RECORD_BATCH)]);
      log(
        `      graphile-worker add_jobs: ${int(SIZES.plan / (g.ms / 1000))} items/s (${Math.round(g.ms)} ms)`,
      );
      await admin.query("DROP SCHEMA IF EXISTS graphile_worker CASCADE");
      plan.graphile = fig(g);
    }
    if (PARTS.has("b") && CONTENDERS.includes("pgboss")) {
      const b = await oneShot([
        "pgboss-insert",
        server.url,
        "bulk",
        String(SIZES.plan),
        String(RECORD_BATCH),
      ]);
      log(`      pg-boss insert: ${int(SIZES.plan / (b.ms / 1000))} items/s (${Math.round(b.ms)} ms)`);
      await admin.query("DROP SCHEMA IF EXISTS pgboss CASCADE");
      plan.pgboss = fig(b);
    }

    if (PARTS.has("d")) {
      log(`[10d] one worker process (${IN_FLIGHT} in flight) processes the ${int(SIZES.plan)}-item plan`);
      const big = await drain(
        server,
        admin,
        monitor,
        () => ["engine", server.url, "big", String(IN_FLIGHT), String(LEASE_MS)],
        1,
      );
      const bigDone = (
        await admin.query(`SELECT count(*)::int AS n FROM big.items WHERE status = 'COMPLETED'`)
      ).rows[0].n;
      if (bigDone !== SIZES.plan) throw new Error(`10d: ${bigDone} of ${SIZES.plan} completed`);
      log(
        `      peak RSS ${Math.round((big.peakRssKiB * 1024) / 1e6)} MB, ${int(SIZES.plan / (big.wallMs / 1000))} items/s`,
      );
      memory = {
        items: SIZES.plan,
        wallMs: big.wallMs,
        itemsPerSecond: SIZES.plan / (big.wallMs / 1000),
        peakRssKiB: big.peakRssKiB,
        commits: big.commits,
        walSyncs: big.walSyncs,
        serverCpuSeconds: big.serverCpuSeconds,
        workersCpuSeconds: big.workersCpuSeconds,
        activity: big.activity,
        met: big.peakRssKiB * 1024 <= TARGETS.peakBytes,
      };
    }
    await admin.query("DROP SCHEMA big CASCADE");
  }

  // 10c: a worker killed while it holds a claimed batch
  const c = [];
  for (const foreign of PARTS.has("c") ? [true, false] : []) {
    log(
      `[10c] SIGKILL a worker holding a claimed batch (lease ${FAILOVER.leaseMs} ms; ${foreign ? "owner on another host: lease expiry" : "same host: dead pid"})`,
    );
    const r = await failover(server, admin, foreign);
    c.push(r);
    log(
      `      ${r.held} items held; lease left at kill ${r.leaseLeftAtKillMs} ms; freed after ${r.killToFreedMs} ms, completed after ${r.killToDoneMs} ms`,
    );
  }

  return {
    server: { version: server.version, local: server.local, settings: server.settings },
    scale: SCALE,
    rounds: ROUNDS,
    sizes: SIZES,
    inFlightPerProcess: IN_FLIGHT,
    peerBatch: PEER_BATCH,
    recordBatch: RECORD_BATCH,
    drain: a,
    plan,
    failover: c,
    memory,
    targets: TARGETS,
  };
}

// ---- the table ---------------------------------------------------------------------------------

const mb = (kib) => `${Math.round((kib * 1024) / 1e6)} MB`;
const secs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const x = (r) => `${r >= 0.1 ? r.toFixed(2) : r.toFixed(3)}×`;
const spread = (rounds, items) =>
  rounds.length > 1
    ? ` (rounds ${int(items / (Math.max(...rounds) / 1000))}–${int(items / (Math.min(...rounds) / 1000))})`
    : "";

const PEERS = [
  ["graphile", "graphile-worker"],
  ["pgboss", "pg-boss"],
];

export function postgresRows(p) {
  const rows = [];
  const n = p.sizes.drain;
  for (const [procs, f] of Object.entries(p.drain)) {
    const e = f.engine;
    const peers = PEERS.filter(([k]) => f[k]);
    const peerCell =
      [
        f.graphile &&
          `${secs(f.graphile.ms)} graphile-worker (runOnce, concurrency ${p.inFlightPerProcess} each)`,
        f.pgboss && `${secs(f.pgboss.ms)} pg-boss (fetch(${p.peerBatch}) + complete() loop each)`,
      ]
        .filter(Boolean)
        .join("; ") || "–";
    const ratios = e
      ? peers.map(([k, name]) => `${x(e.itemsPerSecond / f[k].itemsPerSecond)} ${name}'s speed`).join("; ") ||
        "–"
      : "–";
    const ips = [e, ...peers.map(([k]) => f[k])].map((v) => (v ? int(v.itemsPerSecond) : "–")).join(" · ");
    const rss = [e, ...peers.map(([k]) => f[k])].map((v) => (v ? mb(v.peakRssKiB) : "–")).join(" · ");
    const target =
      Number(procs) === 4 && e
        ? `≥ ${int(p.targets.itemsPerSecondAt4)} items/s ${e.itemsPerSecond >= p.targets.itemsPerSecondAt4 ? "✓" : "✗"}`
        : "–";
    rows.push(
      `| 10a. ${procs} worker process${procs === "1" ? "" : "es"} (${p.inFlightPerProcess} in flight each) drain ${int(n)} no-op items, PostgreSQL ledger (median of ${p.rounds}) ` +
        `| ${e ? `${secs(e.ms)}${spread(e.rounds, n)}` : "–"} | ${peerCell} | ${ratios} | ${ips} | ${rss} (largest process) | ${target} |`,
    );
  }
  const pl = p.plan;
  if (pl) {
    const peers = PEERS.filter(([k]) => pl[k]);
    const what = { graphile: "graphile_worker.add_jobs()", pgboss: "pg-boss insert()" };
    rows.push(
      `| 10b. Planning ${int(pl.items)} items into PostgreSQL (\`planPhase\` → \`recordItems\`, batches of ${p.recordBatch}) ` +
        `| ${secs(pl.engine.ms)} | ${peers.map(([k]) => `${secs(pl[k].ms)} ${what[k]}`).join("; ") || "–"} (same batches) ` +
        `| ${peers.map(([k]) => `${x(pl.engine.itemsPerSecond / pl[k].itemsPerSecond)} ${what[k]}'s speed`).join("; ") || "–"} ` +
        `| ${[pl.engine, ...peers.map(([k]) => pl[k])].map((v) => int(v.itemsPerSecond)).join(" · ")} ` +
        `| ${[pl.engine, ...peers.map(([k]) => pl[k])].map((v) => mb(v.peakRssKiB)).join(" · ")} | – |`,
    );
  }
  for (const c of p.failover) {
    rows.push(
      `| 10c. A worker SIGKILLed holding ${c.held} claimed items (lease ${secs(c.leaseMs)}; ${c.foreignHost ? "its owner on another host: only the lease frees them" : "same host: its dead pid is seen"}): until another worker completed them ` +
        `| ${secs(c.killToDoneMs)} (freed after ${secs(c.killToFreedMs)}) ` +
        `| ${c.foreignHost ? `${secs(c.bound)}: the lease left at the kill (${secs(c.leaseLeftAtKillMs)}) + one poll of the surviving worker (${secs(c.pollMs)})` : `${secs(c.bound)}: one poll of the surviving worker`} ` +
        `| ${x(c.killToDoneMs / c.bound)} the bound's time | – | – | ≤ ${c.foreignHost ? "lease + one poll" : "one poll"} ${c.killToDoneMs <= c.bound + 250 ? "✓" : "✗"} |`,
    );
  }
  const m = p.memory;
  if (m) {
    rows.push(
      `| 10d. Memory: one worker process (${p.inFlightPerProcess} in flight) processes the ${int(m.items)}-item plan (PostgreSQL ledger) ` +
        `| ${mb(m.peakRssKiB)} peak, ${secs(m.wallMs)} | – | – | ${int(m.itemsPerSecond)} · – | ${mb(m.peakRssKiB)} · – ` +
        `| ≤ ${Math.round(p.targets.peakBytes / 1e6)} MB ${m.met ? "✓" : "✗"} |`,
    );
  }
  return rows;
}

/** The engine's claims (settlements riding with them) per process: how many, their mean, the wall's share. */
function roundTrips(r) {
  const ps = r.processes.filter((x) => x.calls);
  if (ps.length === 0) return "–";
  const claims = ps.reduce((a, x) => a + x.calls.claims + x.calls.settles, 0);
  const ms = ps.reduce((a, x) => a + x.calls.claimMs + x.calls.settleMs, 0);
  const share = ms / ps.reduce((a, x) => a + (x.settledAt - x.startedAt), 0);
  return `${int(claims)} claims/settles, ${(ms / claims).toFixed(0)} ms each: ${Math.round(share * 100)}% of its time`;
}

/** Where 10a's time went, per contender and process count (the median round). */
export function postgresLimits(p) {
  const rows = [
    "| 10a run (median round) | items/s | commits (per 1,000 items) | commits/s | WAL fsyncs | CPU s: server + workers (÷ 2 cores × wall) | active backends (mean) | active backends' time (pg_stat_activity every 20 ms) | engine workers' wait on the ledger | load average (start → end) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  const n = p.sizes.drain;
  const cores = 2;
  for (const [procs, f] of Object.entries(p.drain)) {
    for (const [who, name] of [["engine", "syncwarden"], ...PEERS]) {
      if (!f[who]) continue;
      const r = f[who].median;
      const s = r.wallMs / 1000;
      const cpu = (r.serverCpuSeconds ?? 0) + r.workersCpuSeconds;
      const waits = Object.entries(r.activity.waits)
        .slice(0, 4)
        .map(([k, v]) => `${k.replace("CPU:running", "on CPU")} ${(v * 100).toFixed(0)}%`)
        .join(", ");
      rows.push(
        `| ${name}, ${procs} process${procs === "1" ? "" : "es"} | ${int(n / s)} | ${int(r.commits)} (${(r.commits / (n / 1000)).toFixed(1)}) ` +
          `| ${int(r.commits / s)} | ${int(r.walSyncs)} ` +
          `| ${r.serverCpuSeconds === undefined ? "?" : r.serverCpuSeconds.toFixed(1)} + ${r.workersCpuSeconds.toFixed(1)} (${Math.round((cpu / (cores * s)) * 100)}%) ` +
          `| ${r.activity.meanActive.toFixed(1)} | ${waits || "–"} | ${who === "engine" ? roundTrips(r) : "–"} ` +
          `| ${r.load.map((l) => l.toFixed(1)).join(" → ")} |`,
      );
    }
  }
  return rows.length > 2 ? rows.join("\n") : "";
}

export function postgresNote(p) {
  return (
    `PostgreSQL (10): ${p.server.version}, ${p.server.local ? "a throwaway cluster (initdb, server defaults)" : "SYNCWARDEN_BENCH_PG_URL"}: ` +
    Object.entries(p.server.settings)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ") +
    `. Every worker is a process of its own, connected before the clock and released at once; time = the release to ` +
    `the last settlement any engine worker wrote (every item terminal), or to the last peer process's end. ` +
    `Ratio = ours items/s ÷ the peer's. 10a's second table is the median round of each.`
  );
}
