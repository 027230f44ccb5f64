import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { openServices, type Services } from "../src/service/open-services.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";
import { lines, of, receiver, type Receiver } from "./helpers/webhook-receiver.js";
import { gitConfig, Workspace } from "./helpers/workspace.js";

const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");
const T0 = 1_700_000_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An `alerts:` block with one webhook told only of `events`. */
const alertsYaml = (hook: string, events: string[], extra = ""): string => `alerts:
  webhooks:
    - name: ops
      url: ${JSON.stringify(hook)}
      events: [${events.join(", ")}]
${extra}`;

/** Job `shop` over the fault server (provider `api`); `job`: lines inside the job (a schedule), `top`: top-level keys. */
const shopYaml = (api: string, job = "", top = ""): string => `sync: { max_retries: 0, retry_wait_seconds: 0 }
providers:
  api:
    base_url: ${JSON.stringify(api)}
    retry: { max_attempts: 3, base_delay: 0.01, max_delay: 0.02 }
    breaker: { failure_threshold: 3, success_threshold: 1, timeout: 60 }
jobs:
  shop:
${job}    phases:
      - name: products
        source: { type: http-json, provider: api, url: /products, pagination: { style: page, size: 50 } }
${top}`;

/** Evaluates until `want` deliveries arrived (or 20 s passed), `pause` ms apart. */
async function until(services: Services, hook: Receiver, want: number, pause = 250): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    await services.alerts.evaluate();
    if (hook.got.length >= want || Date.now() > deadline) return;
    await sleep(pause);
  }
}

describe("alert conditions: each kind fires once while it lasts and resolves once", () => {
  let ws: Workspace;
  let api: FaultServer | undefined;
  let hook: Receiver | undefined;
  let services: Services | undefined;
  const open = (): Services => (services = openServices(loadConfig(ws.configFile)));
  afterEach(async () => {
    await services?.close();
    services = undefined;
    await api?.close();
    api = undefined;
    await hook?.close();
    hook = undefined;
    ws.cleanup();
  });

  it("run_partial and dead_items (at dead_items_threshold, not under it) fire once and resolve once the dead items are redriven", async () => {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) files[`f${i}.txt`] = `file ${i}\n`;
    ws.commit(files);
    ws.write("poison.txt", "f1.txt\nf4.txt\n");
    hook = await receiver();
    const write = (threshold: number, sync: Record<string, unknown> = {}, delayMs = 0): void => {
      ws.write(
        "syncwarden.yaml",
        gitConfig({
          sync,
          sink: `{ type: module, module: ${JSON.stringify(SINK)}, log: calls.log, poison: poison.txt, table: code, delay_ms: ${delayMs} }`,
        }) + alertsYaml(hook!.url, ["run_partial", "dead_items"], `  dead_items_threshold: ${threshold}\n`),
      );
    };
    write(3);
    open();
    const partial = await services!.sync.execute({ job: "code", trigger: "api" });
    expect(partial.status).toBe("partial");
    await services!.alerts.evaluate();
    await services!.alerts.evaluate();
    // two dead items, under the threshold of 3: only the partial run
    expect(lines(hook.got)).toEqual(["run_partial:code firing"]);
    expect(hook.got[0]!.body).toMatchObject({ condition: "run_partial", details: { job: "code" } });

    // the threshold lowered to 2: the two dead items are enough
    await services!.close();
    write(2);
    open();
    await services!.alerts.evaluate();
    await services!.alerts.evaluate();
    expect(lines(hook.got)).toEqual(["run_partial:code firing", "dead_items:code firing"]);
    expect(hook.got[1]!.body).toMatchObject({
      condition: "dead_items",
      details: { job: "code", dead: 2, threshold: 2 },
    });

    // another partial run, looked at while it runs (the sink takes 1.5 s an item, one at a time): the
    // newest finished run is still the partial one, so the alert neither resolves nor fires again
    ws.commit({ "f6.txt": "file 6\n", "f7.txt": "file 7\n", "f8.txt": "file 8\n" });
    await services!.close();
    write(2, { max_workers: 1 }, 1500);
    open();
    let ended = false;
    const started = new Promise<void>((resolve) =>
      services!.sync.on((e) => {
        if (e.type === "phase:start") resolve();
        else if (e.type === "run:end") ended = true;
      }),
    );
    const again = services!.sync.execute({ job: "code", trigger: "api" });
    await started;
    await services!.alerts.evaluate();
    expect(lines(hook.got)).toEqual(["run_partial:code firing", "dead_items:code firing"]);
    expect(ended, "the look was meant to happen while the run was going").toBe(false);
    expect((await again).status).toBe("partial");
    await services!.alerts.evaluate();
    expect(lines(hook.got)).toEqual(["run_partial:code firing", "dead_items:code firing"]);

    // the cause fixed and the dead items redriven: a completed run clears both, each resolved once
    ws.write("poison.txt", "");
    await services!.close();
    write(2, { redrive_dead_after: "1s" });
    await sleep(1500);
    open();
    const ok = await services!.sync.execute({ job: "code", trigger: "api" });
    expect(ok.status).toBe("completed");
    await services!.alerts.evaluate();
    await services!.alerts.evaluate();
    for (const alert of ["run_partial:code", "dead_items:code"]) {
      expect(of(hook.got, alert, "firing"), alert).toHaveLength(1);
      expect(of(hook.got, alert, "resolved"), alert).toHaveLength(1);
    }
    expect(hook.got).toHaveLength(4);
  }, 60_000);

  it("breaker_stuck_open fires once a breaker has been open for stuck_open_after, and resolves once on reset", async () => {
    ws = new Workspace();
    api = await startFaultServer({ products: 3, script: () => ({ kind: "status", status: 500 }) });
    hook = await receiver();
    ws.write(
      "syncwarden.yaml",
      shopYaml(api.url, "", alertsYaml(hook.url, ["breaker_stuck_open"], "  stuck_open_after: 1s\n")),
    );
    open();
    expect((await services!.sync.execute({ job: "shop", trigger: "api" })).status).toBe("failed");
    await until(services!, hook, 1);
    expect(lines(hook.got)).toEqual(["breaker_stuck_open:api firing"]);
    const fired = hook.got[0]!.body as { at: string; details: { provider: string; openedAt: number } };
    expect(fired.details.provider).toBe("api");
    // not before the breaker had been open for stuck_open_after
    expect(Date.parse(fired.at) - fired.details.openedAt).toBeGreaterThanOrEqual(1000);
    await services!.alerts.evaluate();
    expect(hook.got).toHaveLength(1);

    await services!.sync.breaker("api", "reset");
    await services!.alerts.evaluate();
    await services!.alerts.evaluate();
    expect(lines(hook.got)).toEqual(["breaker_stuck_open:api firing", "breaker_stuck_open:api resolved"]);
  }, 60_000);

  it("job_overdue fires once a scheduled job is one interval past due, and resolves once it succeeds again", async () => {
    ws = new Workspace();
    api = await startFaultServer({ products: 3 });
    hook = await receiver();
    ws.write(
      "syncwarden.yaml",
      shopYaml(api.url, "    schedule: { every: 2s }\n", alertsYaml(hook.url, ["job_overdue"])),
    );
    open();
    expect((await services!.sync.execute({ job: "shop", trigger: "api" })).status).toBe("completed");
    // due 2 s after the success, overdue 2 s after that: not yet
    await services!.alerts.evaluate();
    expect(hook.got).toHaveLength(0);

    await until(services!, hook, 1, 500);
    expect(lines(hook.got)).toEqual(["job_overdue:shop firing"]);
    const fired = hook.got[0]!.body as {
      at: string;
      details: { job: string; lastSuccess: string; overdueSince: string };
    };
    expect(fired.details.job).toBe("shop");
    expect(Date.parse(fired.details.overdueSince) - Date.parse(fired.details.lastSuccess)).toBe(4000);
    expect(Date.parse(fired.at)).toBeGreaterThanOrEqual(Date.parse(fired.details.overdueSince));
    await services!.alerts.evaluate();
    expect(hook.got).toHaveLength(1);

    expect((await services!.sync.execute({ job: "shop", trigger: "api" })).status).toBe("completed");
    await services!.alerts.evaluate();
    await services!.alerts.evaluate();
    expect(lines(hook.got)).toEqual(["job_overdue:shop firing", "job_overdue:shop resolved"]);
  }, 60_000);

  it("doctor_critical fires once for a critical check, is carried through passes without doctor and a restart, and resolves once doctor finds it ok", async () => {
    ws = new Workspace();
    api = await startFaultServer({ products: 3 });
    hook = await receiver();
    ws.write("syncwarden.yaml", shopYaml(api.url, "", alertsYaml(hook.url, ["doctor_critical"])));
    open();
    expect((await services!.sync.execute({ job: "shop", trigger: "api" })).status).toBe("completed");
    // no volume has a billion GB free: the disk check is critical
    const tight = { ...process.env, SYNCWARDEN_DOCTOR_DISK_CRIT_GB: "1000000000" };
    const doctor = (env: NodeJS.ProcessEnv) =>
      services!.health.run({ repair: false, startSyncs: false, restore: false, env });
    const bad = await doctor(tight);
    expect(bad.checks.find((c) => c.name === "disk")?.status).toBe("critical");
    await services!.alerts.evaluate(bad.checks);
    await services!.alerts.evaluate(bad.checks);
    expect(lines(hook.got)).toEqual(["doctor_critical:disk firing"]);
    expect(hook.got[0]!.body).toMatchObject({ condition: "doctor_critical", details: { check: "disk" } });

    // a pass without doctor's results (a run ended) neither resolves nor re-fires it; nor does a restart
    await services!.alerts.evaluate();
    await services!.close();
    open();
    await services!.alerts.evaluate();
    await services!.alerts.evaluate((await doctor(tight)).checks);
    expect(hook.got).toHaveLength(1);

    const good = await doctor({
      ...process.env,
      SYNCWARDEN_DOCTOR_DISK_CRIT_GB: "0",
      SYNCWARDEN_DOCTOR_DISK_WARN_GB: "0",
    });
    expect(good.checks.find((c) => c.name === "disk")?.status).toBe("ok");
    await services!.alerts.evaluate(good.checks);
    await services!.alerts.evaluate(good.checks);
    expect(lines(hook.got)).toEqual(["doctor_critical:disk firing", "doctor_critical:disk resolved"]);
  }, 60_000);

  it("replica_conflict fires once when a target's run meets a conflict, and resolves once its next run meets none", async () => {
    const rws = new ReplicaWorkspace([{ extra: "conflict: newest" }]);
    ws = rws;
    hook = await receiver();
    ws.write(
      "syncwarden.yaml",
      readFileSync(ws.configFile, "utf8") + alertsYaml(hook.url, ["replica_conflict"]),
    );
    open();
    const watching = services!.alerts.watch();
    rws.put(rws.local, "both.txt", "v1", T0);
    const first = await services!.replicas.replicate();
    expect(first.targets[0]).toMatchObject({ status: "ok", conflicts: [] });
    rws.put(rws.local, "both.txt", "local edit", T0 + 60);
    rws.put(rws.remote, "both.txt", "a longer remote edit", T0 + 70);
    const clash = await services!.replicas.replicate();
    expect(clash.targets[0]!.conflicts.map((c) => c.path)).toEqual(["both.txt"]);
    // the run's end set off a pass; this one runs after it
    await services!.alerts.evaluate();
    expect(lines(hook.got)).toEqual(["replica_conflict:notes:drive firing"]);
    expect(hook.got[0]!.body).toMatchObject({
      condition: "replica_conflict",
      details: { replica: "notes", target: "drive", conflicts: 1 },
    });
    // passes with no replica run in between carry it
    await services!.alerts.evaluate();
    expect(hook.got).toHaveLength(1);

    const calm = await services!.replicas.replicate();
    expect(calm.targets[0]).toMatchObject({ status: "ok", conflicts: [] });
    await services!.alerts.evaluate();
    await services!.alerts.evaluate();
    expect(lines(hook.got)).toEqual([
      "replica_conflict:notes:drive firing",
      "replica_conflict:notes:drive resolved",
    ]);
    watching.dispose();
  }, 60_000);

  it("ledger_size fires once while the ledger is over doctor.max_db_bytes, and resolves once it is not", async () => {
    ws = new Workspace();
    api = await startFaultServer({ products: 3 });
    hook = await receiver();
    const write = (max: number): string =>
      ws.write(
        "syncwarden.yaml",
        shopYaml(api!.url, "", `${alertsYaml(hook!.url, ["ledger_size"])}doctor: { max_db_bytes: ${max} }\n`),
      );
    write(1000);
    open();
    expect((await services!.sync.execute({ job: "shop", trigger: "api" })).status).toBe("completed");
    await services!.alerts.evaluate();
    await services!.alerts.evaluate();
    expect(lines(hook.got)).toEqual(["ledger_size:ledger firing"]);
    const fired = hook.got[0]!.body as { details: { bytes: number; maxBytes: number } };
    expect(fired.details.maxBytes).toBe(1000);
    expect(fired.details.bytes).toBeGreaterThan(1000);

    // the limit raised over the ledger's size: resolved once, and not fired again
    await services!.close();
    write(2_000_000_000);
    open();
    await services!.alerts.evaluate();
    await services!.alerts.evaluate();
    expect(lines(hook.got)).toEqual(["ledger_size:ledger firing", "ledger_size:ledger resolved"]);
  }, 60_000);
});
