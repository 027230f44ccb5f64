import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { gitConfig, runCli, Workspace } from "./helpers/workspace.js";

/** Notes embedded through a provider (not degradable: an outage fails the item); the test's script answers 503. */
function config(url: string, breaker: string): string {
  return `sync: { max_retries: 0, retry_wait_seconds: 0, max_workers: 1 }
providers:
  embeddings:
    base_url: ${url}/v1
    retry: { max_attempts: 3, base_delay: 0.01, max_delay: 0.02 }
    breaker: ${breaker}
    timeout: 5
jobs:
  notes:
    phases:
      - name: files
        source: { type: git, repo: ./repo }
        enrich: [{ type: openai-embeddings, provider: embeddings, model: test-embed }]
        sink: { type: sqlite-docs, table: notes }
`;
}

interface BreakerJson {
  provider: string;
  breaker: { state: string; failures: number };
}

describe("resilience switches from the environment", () => {
  let ws: Workspace;
  let server: FaultServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    ws.cleanup();
  });

  async function notesWithFailingEmbeddings(files: number, breaker: string): Promise<FaultServer> {
    ws = new Workspace();
    const s = await startFaultServer({
      script: (req) => (req.path.startsWith("/v1/embeddings") ? { kind: "status", status: 503 } : undefined),
    });
    const content: Record<string, string> = {};
    for (let i = 0; i < files; i++) content[`note-${i}.md`] = `note ${i}`;
    ws.commit(content);
    ws.write("syncwarden.yaml", config(s.url, breaker));
    return s;
  }

  it("14.6 RESILIENCE_RETRY_ENABLED=false: a provider answering 503 sees one attempt per item", async () => {
    server = await notesWithFailingEmbeddings(4, "{ failure_threshold: 100 }");
    const r = await runCli(["run", "--json"], { cwd: ws.dir, env: { RESILIENCE_RETRY_ENABLED: "false" } });
    expect(r.code, r.stderr).toBe(3); // every note dead after its one try (max_retries: 0)
    expect(JSON.parse(r.stdout)).toMatchObject({ status: "partial", phases: [{ total: 4, dead: 4 }] });
    expect(server.stats.byPath["/v1/embeddings"]).toBe(4);

    // the same run with retries on makes max_attempts calls per item: the switch is what made the difference
    server.resetStats();
    const again = await runCli(["run", "--force", "--json"], { cwd: ws.dir });
    expect(again.code, again.stderr).toBe(3);
    expect(server.stats.byPath["/v1/embeddings"]).toBe(12);
  });

  it("14.6 RESILIENCE_CIRCUIT_BREAKER_ENABLED=false: many failures never open the breaker nor block a call", async () => {
    server = await notesWithFailingEmbeddings(6, "{ failure_threshold: 2, timeout: 600 }");
    const env = { RESILIENCE_CIRCUIT_BREAKER_ENABLED: "false", RESILIENCE_RETRY_ENABLED: "false" };
    const r = await runCli(["run", "--json"], { cwd: ws.dir, env });
    expect(r.code, r.stderr).toBe(3);
    // every item reached the provider: none was turned away by an open breaker
    expect(server.stats.byPath["/v1/embeddings"]).toBe(6);
    const listed = await runCli(["breakers", "--json"], { cwd: ws.dir, env });
    expect(listed.code, listed.stderr).toBe(0);
    const breakers = (JSON.parse(listed.stdout) as BreakerJson[]).filter((b) => b.provider === "embeddings");
    expect(breakers).toHaveLength(1);
    expect(breakers[0]!.breaker).toMatchObject({ state: "closed", failures: 0 });
  });

  it("14.6 an unknown RETRY_MAX_ATTEMPS=3 exits 78 naming it and suggesting RETRY_MAX_ATTEMPTS, and touches no state", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "a" });
    ws.write("syncwarden.yaml", gitConfig());
    const r = await runCli(["run"], { cwd: ws.dir, env: { RETRY_MAX_ATTEMPS: "3" } });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(
      "RETRY_MAX_ATTEMPS is not one syncwarden reads; did you mean RETRY_MAX_ATTEMPTS?",
    );
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);

    const breaker = await runCli(["status"], { cwd: ws.dir, env: { CIRCUIT_BREAKER_TIMEOUTS: "5" } });
    expect(breaker.code).toBe(78);
    expect(breaker.stderr).toContain(
      "CIRCUIT_BREAKER_TIMEOUTS is not one syncwarden reads; did you mean CIRCUIT_BREAKER_TIMEOUT?",
    );
    const switchTypo = await runCli(["status"], { cwd: ws.dir, env: { RESILIENCE_RETRY_ENABLE: "false" } });
    expect(switchTypo.code).toBe(78);
    expect(switchTypo.stderr).toContain("did you mean RESILIENCE_RETRY_ENABLED?");
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);
  });

  it("14.6 loadConfig reads the retry and breaker switches and refuses a value that is not true or false", () => {
    ws = new Workspace();
    const file = ws.write("syncwarden.yaml", gitConfig());
    expect(loadConfig(file, {}).resilience).toEqual({ enabled: true, retry: true, breaker: true });
    expect(
      loadConfig(file, { RESILIENCE_RETRY_ENABLED: "false", RESILIENCE_CIRCUIT_BREAKER_ENABLED: "0" })
        .resilience,
    ).toEqual({ enabled: true, retry: false, breaker: false });
    expect(() => loadConfig(file, { RESILIENCE_RETRY_ENABLED: "nah" })).toThrow(
      /RESILIENCE_RETRY_ENABLED="nah": expected true or false/,
    );
  });
});
