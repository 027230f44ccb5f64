import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";

/**
 * A PostgreSQL server for tests. With `initdb`/`pg_ctl` on the machine, a throwaway cluster of this
 * test file's own on a free loopback port (so a test may restart it); else the server named by
 * SYNCWARDEN_TEST_PG_URL. Neither is a failure, never a skip: the message says how to provide one.
 */
export interface TestPostgres {
  /** postgres://… of a database the tests may create schemas in. */
  readonly url: string;
  /** Stops the server (fast shutdown: sessions are cut) and starts it again; only for a throwaway cluster. */
  restart?(pauseMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const HOW =
  "the PostgreSQL tests need a server: install PostgreSQL's initdb and pg_ctl (a throwaway cluster is started per test file), or set SYNCWARDEN_TEST_PG_URL=postgres://user@host:port/db";

const has = (bin: string): boolean => spawnSync("sh", ["-c", `command -v ${bin}`]).status === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** initdb refuses root: run the cluster's binaries as the postgres user then. */
function asServerUser(bin: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  execFileSync(root ? "runuser" : bin, root ? ["-u", "postgres", "--", bin, ...args] : args, {
    stdio: ["ignore", "pipe", "pipe"],
  });
}

let started: Promise<TestPostgres> | undefined;

/** This test file's server (started once, stopped when the process exits). */
export function testPostgres(): Promise<TestPostgres> {
  return (started ??= start());
}

async function start(): Promise<TestPostgres> {
  if (!has("initdb") || !has("pg_ctl")) {
    const url = process.env.SYNCWARDEN_TEST_PG_URL;
    if (!url) throw new Error(HOW);
    return { url, stop: () => Promise.resolve() };
  }
  const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-pg-"));
  const data = path.join(dir, "data");
  if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), 0);
  asServerUser("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const ctl = (...args: string[]): void => asServerUser("pg_ctl", ["-D", data, ...args]);
  ctl("-o", options, "-l", path.join(dir, "server.log"), "-w", "start");
  const stopNow = (): void => {
    try {
      ctl("-m", "immediate", "-w", "stop");
    } catch {
      /* already stopped */
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", stopNow);
  // a test process ended by a signal (a timeout, ^C) takes its cluster with it
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"] as const)
    process.once(sig, () => {
      stopNow();
      process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGHUP" ? 1 : 15));
    });
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: async (pauseMs = 0) => {
      ctl("-m", "fast", "-w", "stop");
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      ctl("-o", options, "-l", path.join(dir, "server.log"), "-w", "start");
    },
    stop: () => {
      process.removeListener("exit", stopNow);
      stopNow();
      return Promise.resolve();
    },
  };
}

let n = 0;
/** A schema name no other test of this run uses. */
export const freshSchema = (): string => `t_${process.pid}_${Date.now().toString(36)}_${n++}`;

/** Drops a schema and everything in it. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}
