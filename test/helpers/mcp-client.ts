import path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createMcpServer } from "../../src/mcp/server.js";
import { openServices, type Services } from "../../src/service/open-services.js";
import { CLI, gitConfig } from "./workspace.js";

export const SLOW_SINK = path.resolve(import.meta.dirname, "../fixtures/slow-sink.mjs");

/** Job `code` through the slow sink (delay_ms per item, calls.log, poison.txt); extra YAML appended. */
export function slowConfig(delayMs: number, extra = ""): string {
  const sink = `{ type: module, module: ${JSON.stringify(SLOW_SINK)}, delay_ms: ${delayMs}, log: calls.log, poison: poison.txt }`;
  return gitConfig({ sink }) + extra;
}

export const files = (prefix: string, n: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}.md`, `${prefix} file ${i}`]));

export type Call = (
  name: string,
  args?: Record<string, unknown>,
  o?: RequestOptions,
) => Promise<CallToolResult>;

export const caller =
  (client: Client): Call =>
  async (name, args = {}, options) =>
    (await client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult;

export const textOf = (r: CallToolResult): string =>
  r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The real SDK client over an in-memory pair to a server over the configuration's services. */
export async function inMemory(
  configFile: string,
  cleanups: (() => Promise<void> | void)[],
): Promise<{ services: Services; client: Client; call: Call }> {
  const services = openServices(loadConfig(configFile), { progressIntervalMs: 50 });
  const server = createMcpServer(services);
  const [serverSide, clientSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "mcp-test", version: "1.0.0" });
  await client.connect(clientSide);
  cleanups.push(async () => {
    await client.close();
    await server.close();
    await services.close();
  });
  return { services, client, call: caller(client) };
}

/** The real SDK client over stdio to `node dist/cli/main.js mcp -c FILE`; stderr collected. */
export async function overStdio(
  configFile: string,
  cwd: string,
  cleanups: (() => Promise<void> | void)[],
): Promise<{ client: Client; call: Call; stderr: () => string }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "mcp", "-c", configFile],
    cwd,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  const client = new Client({ name: "stdio-test", version: "1.0.0" });
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, call: caller(client), stderr: () => stderr };
}
