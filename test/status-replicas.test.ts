import { rmSync } from "node:fs";
import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { createMcpServer } from "../src/mcp/server.js";
import { openServices } from "../src/service/open-services.js";
import { gitConfig } from "./helpers/workspace.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

interface Breaker {
  state: string;
  failures: number;
  openUntil: string | null;
  reason: string | null;
}
interface ReplicaRow {
  name: string;
  path: string;
  direction: string;
  breaker: Breaker;
  lastSuccess: string | null;
}
interface StatusJson {
  providers: { provider: string }[];
  replicas: ReplicaRow[];
}

let ws: ReplicaWorkspace;
afterEach(() => ws.cleanup());

async function status(): Promise<StatusJson> {
  const r = await ws.cli(["status", "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StatusJson;
}

/** sync_status through a real MCP client, in process. */
async function mcpStatus(): Promise<{ structured: StatusJson; text: string }> {
  const services = openServices(loadConfig(ws.configFile));
  const server = createMcpServer(services);
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "status-replicas-test", version: "1.0.0" });
  await client.connect(clientSide);
  try {
    const r = (await client.callTool({ name: "sync_status", arguments: {} })) as CallToolResult;
    const text = r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
    return { structured: r.structuredContent as unknown as StatusJson, text };
  } finally {
    await client.close();
    await server.close();
    await services.close();
  }
}

describe("status: replica targets", () => {
  it("shows each target's path, direction, breaker and last success; a breaker opened by 3 failed runs", async () => {
    ws = new ReplicaWorkspace([{ name: "drive" }, { name: "usb", path: "./usb", extra: "direction: push" }]);
    ws.put(ws.local, "a.txt", "a");

    // never replicated: both targets listed, closed, no last success
    const before = await status();
    expect(before.replicas.map((r) => [r.name, r.path, r.direction, r.breaker.state, r.lastSuccess])).toEqual(
      [
        ["replica:notes:drive", ws.remote, "bidirectional", "closed", null],
        ["replica:notes:usb", path.join(ws.dir, "usb"), "push", "closed", null],
      ],
    );

    // drive syncs; usb does not exist and fails
    const started = Date.now();
    const first = await ws.replicate();
    expect(first.json.targets.map((t) => [t.target, t.status])).toEqual([
      ["drive", "ok"],
      ["usb", "error"],
    ]);
    const synced = await status();
    const drive = synced.replicas.find((r) => r.name === "replica:notes:drive")!;
    expect(Date.parse(drive.lastSuccess!)).toBeGreaterThanOrEqual(started - 1000);
    expect(Date.parse(drive.lastSuccess!)).toBeLessThanOrEqual(Date.now());
    expect(drive.breaker.state).toBe("closed");
    const usb = synced.replicas.find((r) => r.name === "replica:notes:usb")!;
    expect(usb).toMatchObject({ lastSuccess: null, breaker: { state: "closed", failures: 1 } });

    // the drive is unplugged: three failed runs open its breaker; its last success stays
    rmSync(ws.remote, { recursive: true });
    for (let i = 0; i < 3; i++) await ws.replicate("notes");
    const opened = await status();
    const gone = opened.replicas.find((r) => r.name === "replica:notes:drive")!;
    expect(gone.breaker.state).toBe("open");
    expect(Date.parse(gone.breaker.openUntil!)).toBeGreaterThan(Date.now());
    expect(gone.breaker.reason).toMatch(/missing/);
    expect(gone.lastSuccess).toBe(drive.lastSuccess);
    // replica breakers are not providers
    expect(opened.providers).toEqual([]);

    const text = await ws.cli(["status"]);
    expect(text.code, text.stderr).toBe(0);
    const lines = text.stdout.split("\n").filter((l) => l.includes("replica:notes:drive"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(ws.remote);
    expect(lines[0]).toMatch(/breaker open until \d{4}-/);
    expect(lines[0]).toContain(`last success ${drive.lastSuccess!}`);
    expect(text.stdout).toMatch(
      /^replica:notes:usb → .*usb \(push\): breaker open until .*; last success never$/m,
    );

    // `breakers` lists them too, labelled as targets (test/replicas-breakers.test.ts)
    const breakers = await ws.cli(["breakers"]);
    expect(breakers.stdout).toMatch(/^target replica:notes:drive → .*: breaker open until /m);

    // the MCP tool carries the same rows
    const mcp = await mcpStatus();
    expect(mcp.structured.replicas).toEqual(opened.replicas);
    expect(mcp.structured.providers).toEqual([]);
    expect(mcp.text).toContain("replica:notes:drive: breaker open");
  });

  it("lists no replicas when none are configured", async () => {
    ws = new ReplicaWorkspace();
    ws.write("syncwarden.yaml", gitConfig());
    const s = await status();
    expect(s.replicas).toEqual([]);
  });
});
