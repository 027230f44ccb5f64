import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { redact, registerSecret } from "../config/secrets.js";
import { errorMessage } from "../errors.js";
import {
  allowedHosts,
  bearerOf,
  checkHostAndOrigin,
  isRefusal,
  readJsonBody,
  Refusal,
  resolveToken,
  tokenMatches,
} from "../web/request-guard.js";
import { createLaunches, createMcpServer, type McpServerOptions, type McpServices } from "./server.js";

/*
 * Streamable HTTP on 127.0.0.1 only, at /mcp.
 *
 * Every request passes three checks before the SDK sees it:
 * 1. DNS rebinding: the Host header must be exactly 127.0.0.1:PORT or localhost:PORT, and an Origin
 *    header, when sent, must be http://127.0.0.1:PORT or http://localhost:PORT (else 403). A page on
 *    evil.example that rebinds its name to 127.0.0.1 still sends Host: evil.example. (The SDK's
 *    `enableDnsRebindingProtection` transport option does the same but is deprecated in favour of
 *    checks like these in front of the transport.)
 * 2. A bearer token (SYNCWARDEN_MCP_TOKEN, or generated and printed once to stderr), compared in
 *    constant time (else 401 with WWW-Authenticate).
 * 3. The path is /mcp (else 404).
 *
 * Stateful sessions: an initialize request creates a transport and its own McpServer over the shared
 * SyncService, keyed by the Mcp-Session-Id the SDK generates. Sessions are what let a client's
 * notifications/cancelled reach the request it cancels, and progress notifications stream on the
 * request's SSE response. DELETE (or shutdown) ends a session; at most MAX_SESSIONS are open at once.
 */

const MAX_SESSIONS = 32;
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface McpHttpOptions extends McpServerOptions {
  /** 0 picks a free port; the chosen one is logged and returned. */
  port: number;
  /** Defaults to $SYNCWARDEN_MCP_TOKEN, else a random token printed once through `log`. */
  token?: string;
  /** Where lines for a person go (stderr by default). */
  log?: (line: string) => void;
}

export interface McpHttpHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

function reply(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(
    JSON.stringify({ jsonrpc: "2.0", error: { code: status === 401 ? -32001 : -32000, message }, id: null }),
  );
}

export async function startMcpHttp(services: McpServices, opts: McpHttpOptions): Promise<McpHttpHandle> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const { token, generated } = resolveToken(opts.token, ["SYNCWARDEN_MCP_TOKEN"]);
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: McpServer }>();
  // runs a session started outlive it: every session follows and cancels them in one set
  const launches = createLaunches(services.sync, opts.inflight);
  let hosts: string[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    checkHostAndOrigin(req, hosts);
    if (!tokenMatches(token, bearerOf(req))) {
      return reply(
        res,
        401,
        "missing or invalid bearer token (Authorization: Bearer $SYNCWARDEN_MCP_TOKEN)",
        {
          "www-authenticate": 'Bearer realm="syncwarden"',
        },
      );
    }
    if (new URL(req.url ?? "/", "http://127.0.0.1").pathname !== "/mcp")
      throw new Refusal(404, "not found; use /mcp");
    const sid = req.headers["mcp-session-id"];
    const body = req.method === "POST" ? await readJsonBody(req, MAX_BODY_BYTES) : undefined;
    if (typeof sid === "string") {
      const session = sessions.get(sid);
      if (!session) throw new Refusal(404, "unknown session; send initialize again");
      return session.transport.handleRequest(req, res, body);
    }
    if (req.method !== "POST" || !isInitializeRequest(body))
      throw new Refusal(400, "no Mcp-Session-Id: the first request must be initialize");
    if (sessions.size >= MAX_SESSIONS) throw new Refusal(503, `too many open sessions (${MAX_SESSIONS})`);
    const server = createMcpServer(services, { ...opts, launches });
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, { transport, server }),
    });
    // set before connect: the server chains its own close handler onto this one
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (isRefusal(e)) reply(res, e.status, e.message);
      else {
        log(`syncwarden mcp: ${redact(errorMessage(e))}`);
        reply(res, 500, "internal error");
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(opts.port, "127.0.0.1", () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  hosts = allowedHosts("127.0.0.1", port);
  const url = `http://127.0.0.1:${port}/mcp`;
  log(`syncwarden mcp: listening on ${url} (bearer token required)`);
  if (generated) log(`syncwarden mcp: token ${token} (set SYNCWARDEN_MCP_TOKEN to choose your own)`);
  // printed once above, on purpose; nowhere after
  registerSecret(token);

  return {
    url,
    port,
    close: async () => {
      for (const { server } of [...sessions.values()]) await server.close();
      sessions.clear();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
