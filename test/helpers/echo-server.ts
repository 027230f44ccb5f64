import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the echo server answers a request with: a status, or 200 with a body. */
export type EchoAnswer = { status: number } | { body: unknown };

/**
 * A loopback API that echoes every credential it was sent (headers named *key*, *auth*, *token*, and
 * ?key=) back in
 * its error bodies and headers, as careless providers do. `answer` decides each response.
 */
export class EchoServer {
  readonly seen: string[] = [];
  private server: Server | undefined;
  url = "";

  constructor(private readonly answer: (req: IncomingMessage, path: string) => EchoAnswer) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const creds = [
        ...Object.entries(req.headers)
          .filter(([name]) => /key|auth|token/i.test(name))
          .map(([, v]) => v),
        url.searchParams.get("key") ?? undefined,
      ].filter((v): v is string => typeof v === "string");
      this.seen.push(...creds);
      // drain the body first: the answer never depends on it
      req.resume();
      req.on("end", () => {
        const a = this.answer(req, url.pathname);
        if ("body" in a) {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(a.body));
          return;
        }
        const echo = creds.join(" ");
        res.writeHead(a.status, {
          "content-type": "application/json",
          "www-authenticate": `Key realm="${echo}"`,
          "x-received-key": encodeURIComponent(echo),
        });
        res.end(JSON.stringify({ error: `the key ${echo} is not valid`, received: creds }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
  }
}
