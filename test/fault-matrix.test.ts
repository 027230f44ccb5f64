import { afterEach, describe, expect, it } from "vitest";
import { startFaultServer, type Fault, type FaultServer } from "../src/testing/fault-server.js";
import { runCli, Workspace } from "./helpers/workspace.js";

const MIX: Fault[] = [
  { kind: "status", status: 500 },
  { kind: "status", status: 502 },
  { kind: "status", status: 503 },
  { kind: "status", status: 504 },
  { kind: "429", retryAfter: "0.1" },
  { kind: "reset" },
  { kind: "stall", ms: 1500 },
  { kind: "malformed" },
];

function config(url: string): string {
  return `sync: { max_retries: 3, retry_wait_seconds: 0.05, rate_limit_wait_seconds: 0.1, max_workers: 4 }
providers:
  testio:
    base_url: ${url}
    retry: { max_attempts: 6, base_delay: 0.01, max_delay: 0.1 }
    breaker: { failure_threshold: 8, success_threshold: 1, timeout: 0.2, max_timeout: 0.5 }
    timeout: 0.4
  embeddings:
    base_url: ${url}/v1
    retry: { max_attempts: 3, base_delay: 0.01, max_delay: 0.1 }
    breaker: { failure_threshold: 8, success_threshold: 1, timeout: 0.2, max_timeout: 0.5 }
    timeout: 0.4
jobs:
  testio:
    phases:
      - name: products
        source: { type: http-json, provider: testio, url: /products, since: { param: since, field: updated_at }, pagination: { size: 50 } }
      - name: features
        source: { type: http-json, provider: testio, for_each: products, url: "/products/{id}/features", pagination: { size: 50 } }
      - name: tests
        source: { type: http-json, provider: testio, for_each: features, url: "/features/{id}/tests", pagination: { size: 50 } }
        enrich: [{ type: openai-embeddings, provider: embeddings, model: m, batch_size: 8 }]
`;
}

interface Row {
  phase: string;
  key: string;
  status: string;
  error_class: string | null;
  error_message: string | null;
  plan_id: number;
}

describe("fault matrix", () => {
  let ws: Workspace;
  let server: FaultServer;
  afterEach(async () => {
    await server.close();
    ws.cleanup();
  });

  it("30% mixed faults over 2,220 items in three phases: every item completed or dead, none lost, no checkpoint past unfinished work", async () => {
    ws = new Workspace();
    server = await startFaultServer({
      products: 20,
      featuresPerProduct: 10,
      testsPerFeature: 10,
      randomFaults: { rate: 0.3, kinds: MIX, seed: 7 },
    });
    ws.write("syncwarden.yaml", config(server.url));
    const expected = {
      products: new Set(server.data.products.map((p) => String(p.id))),
      features: new Set(server.data.features.map((f) => String(f.id))),
      tests: new Set(server.data.tests.map((t) => String(t.id))),
    };
    expect(expected.products.size + expected.features.size + expected.tests.size).toBeGreaterThanOrEqual(
      2000,
    );

    let last = "";
    for (let run = 0; run < 6; run++) {
      const r = await runCli(["run", "--json"], { cwd: ws.dir });
      last = r.stdout;
      checkCheckpointRule(ws);
      if (r.code === 0) break;
    }
    const result = JSON.parse(last) as { status: string };
    expect(result.status).toBe("completed");
    expect(server.stats.requests).toBeGreaterThan(300);
    expect(
      Object.keys(server.stats.byStatus)
        .map(Number)
        .filter((s) => s >= 500).length,
    ).toBeGreaterThan(0);

    const db = ws.db();
    const rows = db
      .prepare<[], Row>(
        `SELECT i.phase, i.key, i.status, i.error_class, i.error_message, i.plan_id FROM items i
         JOIN plans p ON p.id = i.plan_id WHERE p.id IN (SELECT MAX(id) FROM plans GROUP BY job, phase)`,
      )
      .all();
    const docs = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM documents").get()!.n;
    db.close();
    for (const phase of ["products", "features", "tests"] as const) {
      const mine = rows.filter((r) => r.phase === phase);
      // none lost: every record of the API is an item of the plan, exactly once
      expect(new Set(mine.map((r) => r.key))).toEqual(expected[phase]);
      expect(mine).toHaveLength(expected[phase].size);
      for (const r of mine) {
        expect(["COMPLETED", "DEAD"]).toContain(r.status);
        if (r.status === "DEAD") {
          expect(r.error_class).not.toBeNull();
          expect(r.error_message).not.toBeNull();
        }
      }
    }
    const completed = rows.filter((r) => r.status === "COMPLETED").length;
    expect(docs).toBe(completed);
  });
});

/** For every phase with an open plan, the checkpoint must still be where that plan started. */
function checkCheckpointRule(ws: Workspace): void {
  const db = ws.db();
  try {
    const open = db
      .prepare<[], { job: string; phase: string; from_checkpoint: string | null; unfinished: number }>(
        `SELECT p.job, p.phase, p.from_checkpoint,
                (SELECT COUNT(*) FROM items i WHERE i.plan_id = p.id AND i.status NOT IN ('COMPLETED', 'SKIPPED')) AS unfinished
         FROM plans p WHERE p.state = 'open'`,
      )
      .all();
    for (const p of open) {
      if (p.unfinished === 0) continue;
      const cp = db
        .prepare<[string, string], { value: string }>(
          "SELECT value FROM checkpoints WHERE job = ? AND phase = ? AND scope = ''",
        )
        .get(p.job, p.phase);
      expect(cp?.value ?? null).toBe(p.from_checkpoint);
    }
  } finally {
    db.close();
  }
}
