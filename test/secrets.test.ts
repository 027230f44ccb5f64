import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterEach, describe, expect, it } from "vitest";
import { redact, registerSecret } from "../src/config/secrets.js";
import { createDaemonLogger } from "../src/daemon/log.js";
import { EchoServer } from "./helpers/echo-server.js";
import { CLI, runCli, Workspace } from "./helpers/workspace.js";

// an 8-character key with no credential shape, and a token sent as "Bearer …"
const EMBED_KEY = "q7Zp2xKe";
const SHOP_TOKEN = "Zx9vQ2mN8rT4wY";
const SECRETS = [EMBED_KEY, SHOP_TOKEN];

function config(url: string): string {
  return `sync: { max_retries: 1, retry_wait_seconds: 0, max_workers: 2 }
providers:
  embeddings:
    base_url: ${url}/v1
    headers: { X-Api-Key: "\${EMBED_KEY}" }
    retry: { max_attempts: 2, base_delay: 0.01, max_delay: 0.02 }
    breaker: { failure_threshold: 1000 }
  shop:
    base_url: ${url}
    headers: { Authorization: "Bearer \${SHOP_TOKEN}", X-Shop-Key: "\${EMBED_KEY}" }
jobs:
  notes:
    phases:
      - name: files
        source: { type: git, repo: ./repo }
        enrich: [{ type: openai-embeddings, provider: embeddings, model: m, batch_size: 1 }]
        sink: { type: sqlite-docs, table: notes }
  shop:
    phases:
      - name: products
        source: { type: http-json, provider: shop, url: /products }
`;
}

/** Every text value of every table of the state database, one string. */
function dumpDatabase(ws: Workspace): string {
  const db = ws.db();
  try {
    const tables = db
      .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((t) => t.name);
    return tables.map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t}"`).all())).join("\n");
  } finally {
    db.close();
  }
}

function expectNoSecret(where: string, text: string): void {
  for (const secret of SECRETS)
    expect(text.includes(secret), `${where} holds ${secret}:\n${text}`).toBe(false);
}

describe("secrets never leave the process", () => {
  let ws: Workspace;
  let server: EchoServer;
  afterEach(async () => {
    await server.close();
    ws.cleanup();
  });

  it("14.1 a secret echoed in a 401/503/400 body never reaches stderr, run --json, events, failed, history or the database", async () => {
    let embedCalls = 0;
    // embeddings: 503 then 400, alternately (a retried failure, then a dead item); the listing: 401
    server = await new EchoServer((_req, path) =>
      path === "/v1/embeddings" ? { status: embedCalls++ % 2 === 0 ? 503 : 400 } : { status: 401 },
    ).start();
    ws = new Workspace();
    ws.commit({ "a.md": "alpha", "b.md": "beta", "c.md": "gamma" });
    ws.write("syncwarden.yaml", config(server.url));
    const env = { EMBED_KEY, SHOP_TOKEN };
    const cli = (...args: string[]) => runCli(args, { cwd: ws.dir, env });

    const run = await cli("run", "--json");
    // the provider did receive both secrets, and echoed them back
    expect(server.seen).toContain(EMBED_KEY);
    expect(server.seen).toContain(`Bearer ${SHOP_TOKEN}`);
    expect(run.code, run.stderr).toBe(78); // the shop's 401
    expectNoSecret("run stdout", run.stdout);
    expectNoSecret("run stderr", run.stderr);
    const results = JSON.parse(run.stdout) as { job: string; error?: { message: string } }[];
    expect(results.find((r) => r.job === "shop")?.error?.message).toContain("the key *** *** is not valid");

    const failed = await cli("failed", "--json");
    expect(failed.code, failed.stderr).toBe(0);
    expect(failed.stdout).toContain("the key *** is not valid");
    expectNoSecret("failed --json", failed.stdout);

    const events = await cli("events", "--json", "--limit", "1000");
    expect(events.code, events.stderr).toBe(0);
    expect(events.stdout).toContain("[RETRY] embeddings");
    expectNoSecret("events --json", events.stdout);

    const history = await cli("history", "--json");
    expect(history.code, history.stderr).toBe(0);
    expectNoSecret("history --json", history.stdout);

    const human = await cli("events");
    expectNoSecret("events", human.stdout + human.stderr);
    expectNoSecret("state.db", dumpDatabase(ws));
  });

  it("14.1 an MCP client never sees a secret a provider echoed, in results or on the server's stderr", async () => {
    server = await new EchoServer(() => ({ status: 401 })).start();
    ws = new Workspace();
    ws.commit({ "a.md": "alpha" });
    ws.write("syncwarden.yaml", config(server.url));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "mcp"],
      cwd: ws.dir,
      env: { ...(process.env as Record<string, string>), EMBED_KEY, SHOP_TOKEN },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
    const client = new Client({ name: "secrets-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      const answers: string[] = [];
      for (const job of ["shop", "notes"]) {
        // wait for the run's result (sync_data returns at once otherwise), then read it back as sync_status does
        const result = await client.callTool({
          name: "sync_data",
          arguments: { job, wait: true, wait_seconds: 50 },
        });
        answers.push(JSON.stringify(result));
        answers.push(JSON.stringify(await client.callTool({ name: "sync_status", arguments: { job } })));
        answers.push(JSON.stringify(await client.callTool({ name: "failed_items", arguments: { job } })));
        answers.push(JSON.stringify(await client.callTool({ name: "history", arguments: { job } })));
      }
      expect(server.seen).toContain(EMBED_KEY);
      expect(server.seen).toContain(`Bearer ${SHOP_TOKEN}`);
      expectNoSecret("MCP results", answers.join("\n"));
      expect(answers.join("\n")).toContain("refused the credentials");
    } finally {
      await client.close();
    }
    expectNoSecret("mcp stderr", stderr);
  });

  it("14.1 redact() removes a registered secret as written, URL-encoded and JSON-escaped, and the daemon's log lines carry none", () => {
    server = new EchoServer(() => ({ status: 200 }));
    ws = new Workspace();
    const secret = 'p@ss "w/rd"';
    registerSecret(`Token ${secret}`);
    const text = `a ${secret} b ${encodeURIComponent(secret)} c ${JSON.stringify(secret)} d Token ${secret}`;
    expect(redact(text)).toBe('a *** b *** c "***" d ***');
    registerSecret("abc"); // too short to scrub everywhere: ordinary words would go too
    expect(redact("abc")).toBe("abc");

    for (const format of ["json", "pretty"] as const) {
      const lines: string[] = [];
      const logger = createDaemonLogger(format, { write: (l: string) => lines.push(l) });
      logger.error({ err: new Error(`401: bad key ${secret}`) }, `job failed: ${secret}`);
      expect(lines).toHaveLength(1);
      expect(lines[0]).not.toContain(secret);
      expect(lines[0]).not.toContain(JSON.stringify(secret).slice(1, -1));
      expect(lines[0]).toContain("job failed: ***");
      if (format === "json") expect(() => JSON.parse(lines[0]!) as unknown).not.toThrow();
    }
  });
});
