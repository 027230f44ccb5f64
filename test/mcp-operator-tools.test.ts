import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SyncResult } from "../src/service/types.js";
import { files, inMemory, sleep, slowConfig, textOf, type Call } from "./helpers/mcp-client.js";
import { runCli, Workspace } from "./helpers/workspace.js";

// What the CLI gives a person, an agent gets as tools: each one a service call, answered with
// structuredContent and a text rendering, through the official SDK client.

let ws: Workspace;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  ws.cleanup();
});

const EXTRA = `providers:
  testio: { base_url: "http://127.0.0.1:9/" }
replicas:
  notes:
    folder: ./local
    targets:
      - { name: drive, path: ./remote }
`;

interface Breaker {
  kind: string;
  name: string;
  breaker: { state: string; isolated: boolean };
}

async function untilEnded(call: Call, id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const r = (await call("replica_status", { id })).structuredContent as {
      replications: Record<string, unknown>[];
    };
    if (r.replications[0]?.state === "ended") return r.replications[0];
    await sleep(100);
  }
  throw new Error(`replication ${id} did not end within 20 s`);
}

describe("MCP operator tools", { timeout: 60_000 }, () => {
  it("14.11 search, history, failed_items, doctor, list_breakers, reset_breaker, isolate_breaker, replica_status and replicate answer through the SDK client", async () => {
    ws = new Workspace();
    ws.commit(files("f", 12));
    ws.write("syncwarden.yaml", slowConfig(0, EXTRA));
    ws.write("poison.txt", "f3.md\n");
    mkdirSync(path.join(ws.dir, "local"));
    mkdirSync(path.join(ws.dir, "remote"));
    writeFileSync(path.join(ws.dir, "local", "note.txt"), "a note");
    const { call } = await inMemory(ws.configFile, cleanups);
    const run = (await call("sync_data", { job: "code", wait: true }))
      .structuredContent as unknown as SyncResult;
    expect(run.status).toBe("partial");

    // search: keyword hits of the job; nothing for a word no document holds; semantic says why not
    const found = (await call("search", { query: "file", job: "code", limit: 5 })).structuredContent as {
      hits: { job: string; key: string; snippet: string }[];
    };
    expect(found.hits).toHaveLength(5);
    expect(found.hits.every((h) => h.job === "code" && /^f\d+\.md$/.test(h.key))).toBe(true);
    expect(found.hits[0]!.snippet).toContain("[file]");
    expect((await call("search", { query: "zebra" })).structuredContent).toEqual({ hits: [] });
    const semantic = await call("search", { query: "file", semantic: true });
    expect((semantic.structuredContent as { note: string }).note).toMatch(/no job has an openai-embeddings/);

    // history: the run just made, with its result
    const history = (await call("history", { job: "code", limit: 5 })).structuredContent as {
      runs: { runId: string; status: string; trigger: string; result: SyncResult }[];
    };
    expect(history.runs).toHaveLength(1);
    expect(history.runs[0]).toMatchObject({ runId: run.runId, status: "partial", trigger: "mcp" });
    expect(history.runs[0]!.result.phases[0]!.dead).toBe(1);

    // failed_items: the poisoned file, DEAD, permanent
    const failed = (await call("failed_items", { job: "code" })).structuredContent as {
      items: Record<string, unknown>[];
      total: number;
    };
    expect(failed.total).toBe(1);
    expect(failed.items[0]).toMatchObject({ key: "f3.md", status: "DEAD", errorClass: "permanent" });
    expect(failed.items[0]!.error).toMatch(/poison list/);

    // doctor: the same checks and verdict as the CLI's doctor --json
    const doctor = (await call("doctor")).structuredContent as {
      checks: { name: string; status: string }[];
      exitCode: number;
    };
    const cli = await runCli(["doctor", "--json"], { cwd: ws.dir });
    const fromCli = JSON.parse(cli.stdout) as { checks: { name: string }[] };
    expect(doctor.checks.map((c) => c.name)).toEqual(fromCli.checks.map((c) => c.name));
    expect(doctor.exitCode).toBe(cli.code);

    // breakers: the provider's and the replica target's; isolate and reset are shared with other processes
    const listed = (await call("list_breakers")).structuredContent as { breakers: Breaker[] };
    expect(listed.breakers.map((b) => [b.kind, b.name, b.breaker.state])).toEqual([
      ["provider", "testio", "closed"],
      ["target", "replica:notes:drive", "closed"],
    ]);
    const isolated = (await call("isolate_breaker", { name: "testio" }))
      .structuredContent as unknown as Breaker;
    expect(isolated.breaker).toMatchObject({ state: "open", isolated: true });
    const seenByCli = JSON.parse((await runCli(["breakers", "--json"], { cwd: ws.dir })).stdout) as {
      provider: string;
      breaker: { isolated: boolean };
    }[];
    expect(seenByCli.find((b) => b.provider === "testio")!.breaker.isolated).toBe(true);
    const reset = (await call("reset_breaker", { name: "testio" })).structuredContent as unknown as Breaker;
    expect(reset.breaker).toMatchObject({ state: "closed", isolated: false });
    const unknown = await call("reset_breaker", { name: "nope" });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toBe(
      'unknown breaker "nope"; providers: testio; replica targets: replica:notes:drive',
    );

    // replicate: waits for the report when asked; else returns an id that replica_status follows
    const waited = (await call("replicate", { wait: true })).structuredContent as {
      state: string;
      targets: { target: string; status: string; copied: number }[];
    };
    expect(waited.state).toBe("ended");
    expect(waited.targets).toMatchObject([{ target: "drive", status: "ok", copied: 1 }]);
    expect(existsSync(path.join(ws.dir, "remote", "note.txt"))).toBe(true);
    writeFileSync(path.join(ws.dir, "local", "second.txt"), "another");
    const started = (await call("replicate", { replica: "notes" })).structuredContent as { id: string };
    const ended = await untilEnded(call, started.id);
    expect(ended.targets).toMatchObject([{ target: "drive", status: "ok", copied: 1 }]);
    const status = (await call("replica_status")).structuredContent as {
      targets: { name: string; lastSuccess: string | null }[];
      replications: unknown[];
    };
    expect(status.targets).toMatchObject([{ name: "replica:notes:drive" }]);
    expect(status.targets[0]!.lastSuccess).not.toBeNull();
    expect(status.replications).toHaveLength(2);
    const wrong = await call("replicate", { replica: "nope", wait: true });
    expect(wrong.isError).toBe(true);
    expect(textOf(wrong)).toContain("nope");
  });
});
