// Section 10: the PostgreSQL server the bench measures against. With `initdb`/`pg_ctl` on the machine, a
// throwaway cluster on a free loopback port, started as test/helpers/postgres.ts starts one (as the postgres
// user when root), with the server's defaults (fsync on, synchronous_commit on); else the server named by
// SYNCWARDEN_BENCH_PG_URL. The server's CPU is read from /proc for a local cluster only.
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";

const HOW =
  "section 10 needs a PostgreSQL server: install initdb and pg_ctl (a throwaway cluster is started), " +
  "or set SYNCWARDEN_BENCH_PG_URL=postgres://user@host:port/db";

const has = (bin) => spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** initdb refuses root: run the cluster's binaries as the postgres user then. */
function asServerUser(bin, args) {
  const root = process.getuid?.() === 0;
  return execFileSync(root ? "runuser" : bin, root ? ["-u", "postgres", "--", bin, ...args] : args, {
    stdio: ["ignore", "pipe", "pipe"],
  }).toString();
}

const CLK_TCK = 100; // USER_HZ on Linux

/** utime, stime, cutime, cstime (clock ticks) and the parent pid of a process, from /proc. */
function procTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields after the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    return {
      ppid: Number(f[1]),
      self: Number(f[11]) + Number(f[12]),
      children: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds the server has used so far: the postmaster, the children it has reaped (cutime/cstime: the
 * backends of connections already closed) and its live children (backends, writers, autovacuum).
 */
export function serverCpuSeconds(postmasterPid) {
  const pm = procTimes(postmasterPid);
  if (!pm) return undefined;
  let ticks = pm.self + pm.children;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const t = procTimes(Number(name));
    if (t && t.ppid === postmasterPid) ticks += t.self + t.children;
  }
  return ticks / CLK_TCK;
}

/** The bench's server: `{ url, local, postmasterPid?, version, settings, stop() }`. */
export async function startBenchPostgres() {
  const given = process.env.SYNCWARDEN_BENCH_PG_URL;
  if (given) return { url: given, local: false, ...(await describe(given)), stop: async () => undefined };
  if (!has("initdb") || !has("pg_ctl")) throw new Error(HOW);
  const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-bench-pg-"));
  const data = path.join(dir, "data");
  if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), 0);
  // --no-sync only skips initdb's own flush of the new files; the server runs with fsync on
  asServerUser("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const ctl = (...args) => asServerUser("pg_ctl", ["-D", data, ...args]);
  ctl("-o", options, "-l", path.join(dir, "server.log"), "-w", "start");
  const stopNow = () => {
    try {
      ctl("-m", "immediate", "-w", "stop");
    } catch {
      /* already stopped */
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", stopNow);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const postmasterPid = Number(readFileSync(path.join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  return {
    url,
    local: true,
    postmasterPid,
    ...(await describe(url)),
    stop: async () => {
      process.removeListener("exit", stopNow);
      stopNow();
    },
  };
}

async function describe(url) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const version = (await c.query("SHOW server_version")).rows[0].server_version;
    const names = [
      "fsync",
      "synchronous_commit",
      "wal_sync_method",
      "shared_buffers",
      "max_connections",
      "commit_delay",
    ];
    const { rows } = await c.query("SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)", [
      names,
    ]);
    const settings = Object.fromEntries(
      rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]),
    );
    return { version, settings };
  } finally {
    await c.end();
  }
}
