import { afterEach, describe, expect, it } from "vitest";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { runCli, Workspace } from "./helpers/workspace.js";

interface Result {
  status: string;
  degradation: string;
  phases: { total: number; completed: number; degraded: number; dead: number }[];
}

const TOPICS = [
  "otters swimming in kelp",
  "volcano lava eruption",
  "violin concerto orchestra",
  "glacier ice melting",
  "desert cactus bloom",
];

function config(url: string): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0, max_workers: 4 }
providers:
  embeddings:
    base_url: ${url}/v1
    retry: { max_attempts: 2, base_delay: 0.01, max_delay: 0.05 }
    breaker: { failure_threshold: 3, success_threshold: 1, timeout: 0.3 }
    timeout: 2
jobs:
  notes:
    phases:
      - name: files
        source: { type: git, repo: ./repo }
        enrich: [{ type: openai-embeddings, provider: embeddings, model: test-embed, degradable: true, batch_size: 8 }]
        sink: { type: sqlite-docs, table: notes }
`;
}

describe("LLM outage: store raw, enrich later", () => {
  let ws: Workspace;
  let server: FaultServer;
  afterEach(async () => {
    await server.close();
    ws.cleanup();
  });

  it("completes raw_only with every document searchable, then pays the debts once the provider is back", async () => {
    ws = new Workspace();
    server = await startFaultServer();
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) files[`note-${i}.md`] = `note ${i} about ${TOPICS[i % TOPICS.length]!}`;
    ws.commit(files);
    ws.write("syncwarden.yaml", config(server.url));
    const cli = (...args: string[]) => runCli(args, { cwd: ws.dir });

    server.embeddingsDown = true;
    const down = await cli("run", "--json");
    expect(down.code, down.stderr).toBe(3); // degraded
    const r1 = JSON.parse(down.stdout) as Result;
    expect(r1).toMatchObject({ status: "completed", degradation: "raw_only" });
    expect(r1.phases[0]).toMatchObject({ total: 30, completed: 30, degraded: 30, dead: 0 });
    expect(ws.documents("notes").size).toBe(30);
    const keyword = JSON.parse((await cli("search", "volcano", "--json")).stdout) as { key: string }[];
    expect(keyword).toHaveLength(6);
    const status = JSON.parse((await cli("status", "--json")).stdout) as {
      jobs: { debts: number }[];
      providers: { provider: string; breaker: { state: string } }[];
    };
    expect(status.jobs[0]!.debts).toBe(30);
    expect(status.providers[0]).toMatchObject({ provider: "embeddings", breaker: { state: "open" } });
    const noVectors = await cli("search", "--semantic", "otters", "--json");
    expect(JSON.parse(noVectors.stdout)).toEqual([]);
    expect(noVectors.stderr).toContain("no vectors are stored");

    // still down: paying debts fails and keeps them
    await new Promise((r) => setTimeout(r, 350));
    const stillDown = await cli("retry", "--debts", "--json");
    expect(stillDown.code).toBe(3);
    expect(JSON.parse(stillDown.stdout)).toEqual([
      { job: "notes", paid: 0, remaining: 30, stillDown: ["embeddings"] },
    ]);

    // back up: the next run (nothing new to sync) pays every debt
    server.embeddingsDown = false;
    await new Promise((r) => setTimeout(r, 700)); // the breaker's open period (doubled once) passes
    const back = await cli("run", "--json");
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout)).toMatchObject({ status: "completed", degradation: "full" });
    expect(
      (JSON.parse((await cli("status", "--json")).stdout) as { jobs: { debts: number }[] }).jobs[0]!.debts,
    ).toBe(0);
    expect(ws.documents("notes").size).toBe(30);
    const db = ws.db();
    const vectors = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM vectors").get()!.n;
    const docs = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM documents").get()!.n;
    db.close();
    expect(vectors).toBe(30);
    expect(docs).toBe(30);
    const semantic = JSON.parse(
      (await cli("search", "--semantic", "otters", "swimming", "kelp", "--json")).stdout,
    ) as { key: string }[];
    expect(semantic.length).toBeGreaterThan(0);
    expect(Number(semantic[0]!.key.match(/\d+/)![0]) % TOPICS.length).toBe(0);

    // a second outage on one new file: `retry --debts` pays it after recovery
    server.embeddingsDown = true;
    ws.commit({ "late.md": "late note about glacier ice" });
    const partial = JSON.parse((await cli("run", "--json")).stdout) as Result;
    expect(partial.degradation).toBe("raw_only");
    server.embeddingsDown = false;
    await new Promise((r) => setTimeout(r, 700));
    const paid = await cli("retry", "--debts", "--json");
    expect(paid.code, paid.stderr).toBe(0);
    expect(JSON.parse(paid.stdout)).toEqual([{ job: "notes", paid: 1, remaining: 0, stillDown: [] }]);
    expect(ws.documents("notes").size).toBe(31);
  });
});
