import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { registerSecret } from "../config/secrets.js";
import { ConfigError } from "../errors.js";
import { metricsHandler } from "../service/metrics-handler.js";
import type { Metrics } from "../service/metrics.js";

export interface MetricsServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** 127.0.0.1 unless set; any other address needs a token. */
  host?: string;
  /** Required as `Authorization: Bearer …` when set (SYNCWARDEN_METRICS_TOKEN, else SYNCWARDEN_MCP_TOKEN). */
  token?: string;
}

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** The token the environment gives the metrics listener, if any. */
export const metricsToken = (env: NodeJS.ProcessEnv): string | undefined =>
  env.SYNCWARDEN_METRICS_TOKEN || env.SYNCWARDEN_MCP_TOKEN || undefined;

/** `GET /metrics` on a small HTTP listener of the daemon's; everything else is 404. */
export async function startMetricsServer(metrics: Metrics, o: MetricsServerOptions): Promise<MetricsServer> {
  const host = o.host ?? "127.0.0.1";
  if (!LOOPBACK.has(host) && o.token === undefined)
    throw new ConfigError(
      `metrics.host ${host} is not a loopback address: set SYNCWARDEN_METRICS_TOKEN (scrapers send it as a bearer token), or bind 127.0.0.1`,
    );
  if (o.token !== undefined) registerSecret(o.token);
  const handle = metricsHandler(metrics, o.token === undefined ? {} : { token: o.token });
  const server = createServer((req, res) => {
    void handle(req, res).then((handled) => {
      if (handled) return;
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found: the metrics are at /metrics\n");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
