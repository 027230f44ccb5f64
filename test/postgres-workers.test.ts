import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openPostgresLedger } from "../src/ledger/postgres/postgres-ledger.js";
import { freshSchema, testPostgres } from "./helpers/postgres.js";
import { CLI, ROOT, runCli } from "./helpers/workspace.js";

const SOURCE = path.join(ROOT, "test/fixtures/many-source.mjs");
const SINK = path.join(ROOT, "test/fixtures/slow-sink.mjs");
const ITEMS = 5_000;
const WORKERS = 4;
const LEASE_SECONDS = 3;
interface WorkerRow {
  host: string;
  pid: number;
  inFlight: number;
  lastHeartbeat: string;
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

afterAll(async () => (await testPostgres()).stop());

/** What the database saw, recorded by triggers in the transactions that did it (rolled back with them). */
const AUDIT = `
  CREATE TABLE audit_completions (item_id BIGINT, key TEXT, fence BIGINT, at TIMESTAMPTZ DEFAULT clock_timestamp());
  CREATE FUNCTION audit_completion() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO audit_completions (item_id, key, fence) VALUES (NEW.id, NEW.key, NEW.fence); RETURN NEW; END $$;
  CREATE TRIGGER items_completed AFTER UPDATE ON items FOR EACH ROW WHEN (NEW.status = 'COMPLETED')
    EXECUTE FUNCTION audit_completion();
  CREATE TABLE audit_documents (key TEXT, at TIMESTAMPTZ DEFAULT clock_timestamp());
  CREATE FUNCTION audit_document() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO audit_documents (key) VALUES (NEW.key); RETURN NEW; END $$;
  CREATE TRIGGER documents_written AFTER INSERT OR UPDATE ON documents FOR EACH ROW
    EXECUTE FUNCTION audit_document();
  CREATE TABLE audit_checkpoints (value TEXT, at TIMESTAMPTZ DEFAULT clock_timestamp());
  CREATE FUNCTION audit_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO audit_checkpoints (value) VALUES (NEW.value); RETURN NEW; END $$;
  CREATE TRIGGER checkpoint_moved AFTER INSERT OR UPDATE ON checkpoints FOR EACH ROW
    EXECUTE FUNCTION audit_checkpoint();
`;

describe("many workers on one PostgreSQL ledger", () => {
  it(`${WORKERS} workers finish one ${ITEMS}-item plan exactly once through ≥ 20 SIGKILLs, ≥ 5 SIGSTOPs past the lease and a database restart`, async () => {
    const server = await testPostgres();
    if (!server.restart) throw new Error("this test restarts the database: it needs initdb/pg_ctl");
    const schema = freshSchema();
    const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-chaos-"));
    const db = new pg.Client({ connectionString: server.url, options: `-c search_path=${schema}` });
    const children = new Set<ChildProcess>();
    try {
      // migrate, then watch the tables with triggers
      const ledger = openPostgresLedger({ url: server.url, schema });
      await ledger.meta.get("migrated");
      await ledger.close();
      await db.connect();
      await db.query(AUDIT);
      await db.end();

      writeFileSync(
        path.join(dir, "syncwarden.yaml"),
        `sync: { max_workers: 4, lease_seconds: ${LEASE_SECONDS}, max_retries: 5, retry_wait_seconds: 0 }
jobs:
  chaos:
    phases:
      - name: items
        source: { type: module, module: ${JSON.stringify(SOURCE)}, count: ${ITEMS}, target: rev-1 }
        sink: { type: module, module: ${JSON.stringify(SINK)}, delay_ms: 150, log: calls.log, table: docs }
`,
      );
      const env = { ...process.env, SYNCWARDEN_DATABASE_URL: server.url, SYNCWARDEN_DATABASE_SCHEMA: schema };
      const exits = new Map<number, { code: number | null; signal: NodeJS.Signals | null }>();
      let stopping = false;
      const spawnWorker = (): ChildProcess => {
        const child = spawn(process.execPath, [CLI, "worker", "chaos", "--poll", "0.2"], {
          cwd: dir,
          env,
          stdio: ["ignore", "ignore", "pipe"],
        });
        let log = "";
        child.stderr.on("data", (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
        children.add(child);
        child.on("exit", (code, signal) => {
          children.delete(child);
          exits.set(child.pid!, { code, signal });
          // a supervisor (systemd, a container runtime) starts a worker that died; no person is involved
          if (!stopping) spawnWorker();
          else if (code !== 0) console.error(`worker ${child.pid} exited ${code ?? signal}:\n${log}`);
        });
        return child;
      };
      for (let i = 0; i < WORKERS; i++) spawnWorker();

      const watch = new pg.Pool({
        connectionString: server.url,
        options: `-c search_path=${schema}`,
        max: 2,
      });
      watch.on("error", () => undefined);
      const q = async <T extends pg.QueryResultRow>(sql: string): Promise<T[] | undefined> => {
        try {
          return (await watch.query<T>(sql)).rows;
        } catch {
          return undefined; // the database is restarting
        }
      };
      const planState = async (): Promise<string | undefined> =>
        (await q<{ state: string }>("SELECT state FROM plans ORDER BY id DESC LIMIT 1"))?.[0]?.state;
      /** Worker pids holding leases now, most items first (the observed points to strike). */
      const holders = async (): Promise<number[]> =>
        (
          (await q<{ owner: string }>(
            `SELECT lease_owner AS owner FROM items WHERE status = 'PROCESSING' GROUP BY lease_owner ORDER BY count(*) DESC`,
          )) ?? []
        ).map((r) => Number(r.owner.split(":").at(-2)));

      const deadline = Date.now() + 240_000;
      while ((await planState()) !== "open" && Date.now() < deadline) await sleep(100);
      expect(await planState()).toBe("open");
      // status names the live workers of the open plan: host, pid, items in flight, last heartbeat
      while ((await holders()).length === 0 && Date.now() < deadline) await sleep(100);
      const status = await runCli(["status", "--json"], { cwd: dir, env });
      const phase = (JSON.parse(status.stdout) as { jobs: { phases: { workers: WorkerRow[] }[] }[] }).jobs[0]!
        .phases[0]!;
      expect(phase.workers.length).toBeGreaterThan(0);
      for (const w of phase.workers) {
        expect([...children].map((c) => c.pid)).toContain(w.pid);
        expect(w.host).toBe(hostname());
        expect(w.inFlight).toBeGreaterThan(0);
        expect(Date.now() - Date.parse(w.lastHeartbeat)).toBeLessThan(60_000);
      }

      let kills = 0;
      let stops = 0;
      let restarts = 0;
      const paused = new Set<number>();
      for (let round = 0; Date.now() < deadline; round++) {
        const state = await planState();
        if (state === "closed") break;
        const live = [...children].map((c) => c.pid!).filter((p) => !paused.has(p));
        const busy = (await holders()).filter((p) => live.includes(p));
        const target = busy[0] ?? live[round % Math.max(1, live.length)];
        if (restarts === 0 && kills >= 10) {
          await server.restart(500);
          restarts++;
        } else if (stops < 5 && round % 4 === 1 && target !== undefined && paused.size === 0) {
          // paused past its lease: its items go to other workers; when it wakes, its settlements are stale
          const pid = target;
          process.kill(pid, "SIGSTOP");
          paused.add(pid);
          stops++;
          setTimeout(
            () => {
              process.kill(pid, "SIGCONT");
              paused.delete(pid);
            },
            (LEASE_SECONDS + 2) * 1000,
          ).unref();
        } else if (kills < 24 && target !== undefined) {
          process.kill(target, "SIGKILL");
          kills++;
        }
        await sleep(kills < 24 ? 900 : 500);
      }
      while ((await planState()) !== "closed" && Date.now() < deadline) await sleep(200);
      expect(await planState()).toBe("closed");
      while (paused.size > 0) await sleep(100);

      // stopped with SIGTERM: in-flight items settle, every worker exits 0
      stopping = true;
      const stopped = [...children].map(
        (c) => new Promise<number | null>((r) => c.on("exit", (code) => r(code))),
      );
      for (const c of children) c.kill("SIGTERM");
      expect(await Promise.all(stopped)).toEqual(Array(stopped.length).fill(0));

      expect(kills).toBeGreaterThanOrEqual(20);
      expect(stops).toBeGreaterThanOrEqual(5);
      expect(restarts).toBe(1);

      const one = async <T extends pg.QueryResultRow>(sql: string): Promise<T> => (await q<T>(sql))![0]!;
      // every item completed, each completion recorded once: no stale fence's settlement was accepted
      expect(await one("SELECT count(*)::int AS n FROM items WHERE status = 'COMPLETED'")).toEqual({
        n: ITEMS,
      });
      expect(
        await one("SELECT count(*)::int AS n, count(DISTINCT item_id)::int AS d FROM audit_completions"),
      ).toEqual({
        n: ITEMS,
        d: ITEMS,
      });
      // the sink's side effect committed exactly once per item, although many items were processed twice
      expect(
        await one("SELECT count(*)::int AS n, count(DISTINCT key)::int AS d FROM audit_documents"),
      ).toEqual({
        n: ITEMS,
        d: ITEMS,
      });
      const calls = readFileSync(path.join(dir, "calls.log"), "utf8").trim().split("\n");
      expect(new Set(calls.map((l) => l.split("\t")[2])).size).toBe(ITEMS);
      expect(calls.length).toBeGreaterThan(ITEMS);
      // the checkpoint moved once, to the plan's target, after the last completion
      const moves = (await q<{ value: string; at: Date }>("SELECT value, at FROM audit_checkpoints"))!;
      expect(moves.map((m) => m.value)).toEqual(["rev-1"]);
      const last = await one<{ at: Date }>("SELECT max(at) AS at FROM audit_completions");
      expect(moves[0]!.at.getTime()).toBeGreaterThanOrEqual(last.at.getTime());
      await watch.end();
    } finally {
      for (const c of children) c.kill("SIGKILL");
      await db.end().catch(() => undefined);
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  }, 420_000);
});
