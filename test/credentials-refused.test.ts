import { afterEach, describe, expect, it } from "vitest";
import { EchoServer } from "./helpers/echo-server.js";
import { runCli, Workspace } from "./helpers/workspace.js";

function config(url: string): string {
  return `sync: { max_retries: 2, retry_wait_seconds: 0, max_workers: 2 }
providers:
  embeddings:
    base_url: ${url}/v1
    headers: { Authorization: "Bearer \${EMBED_TOKEN}" }
    retry: { max_attempts: 2, base_delay: 0.01, max_delay: 0.02 }
jobs:
  notes:
    phases:
      - name: files
        source: { type: git, repo: ./repo }
        enrich: [{ type: openai-embeddings, provider: embeddings, model: m, batch_size: 1 }]
        sink: { type: sqlite-docs, table: notes }
`;
}

interface Result {
  status: string;
  error?: { errorClass: string; message: string };
}

describe("a provider that refuses the credentials", () => {
  let ws: Workspace;
  let server: EchoServer;
  afterEach(async () => {
    await server.close();
    ws.cleanup();
  });

  for (const status of [401, 403]) {
    it(`14.15 a ${status} from a provider during a run exits 78, names the provider and loses no item`, async () => {
      let refuse = true;
      let embedCalls = 0;
      server = await new EchoServer(() => {
        embedCalls++;
        return refuse ? { status } : { body: { data: [{ index: 0, embedding: [0.1, 0.2] }] } };
      }).start();
      ws = new Workspace();
      ws.commit({ "a.md": "alpha", "b.md": "beta", "c.md": "gamma", "d.md": "delta" });
      ws.write("syncwarden.yaml", config(server.url));
      const env = { EMBED_TOKEN: "wrong-token-1234" };

      const refused = await runCli(["run", "--json"], { cwd: ws.dir, env });
      expect(refused.code, refused.stderr).toBe(78);
      const r = JSON.parse(refused.stdout) as Result;
      expect(r.status).toBe("failed");
      expect(r.error?.errorClass).toBe("config");
      expect(r.error?.message).toContain("provider embeddings refused the credentials");
      expect(refused.stderr).toContain(`provider embeddings refused the credentials (HTTP ${status}`);
      // the run stopped at the refusal instead of burning every item's attempts on it
      expect(embedCalls).toBeLessThanOrEqual(2);
      const failed = await runCli(["failed", "--json"], { cwd: ws.dir, env });
      expect(JSON.parse(failed.stdout)).toEqual([]);

      // with the credentials fixed, the next run stores every item
      refuse = false;
      const fixed = await runCli(["run", "--json"], { cwd: ws.dir, env });
      expect(fixed.code, fixed.stderr).toBe(0);
      expect((JSON.parse(fixed.stdout) as Result).status).toBe("completed");
      expect(ws.documents("notes").size).toBe(4);
    });
  }
});
