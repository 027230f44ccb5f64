import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { errorMessage } from "../errors.js";
import type { Metrics } from "./metrics.js";

/** Whether a request carries `Authorization: Bearer <token>` (compared in constant time). */
export function hasBearer(req: IncomingMessage, token: string): boolean {
  const got = Buffer.from(req.headers.authorization ?? "");
  const want = Buffer.from(`Bearer ${token}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * `GET /metrics` for any node:http server (the daemon's listener, the status page's): answers the
 * exposition and returns true, or returns false for another path. With a token, a request without it
 * gets 401.
 */
export function metricsHandler(
  metrics: Metrics,
  options: { token?: string } = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path !== "/metrics") return false;
    if (options.token !== undefined && !hasBearer(req, options.token)) {
      res.writeHead(401, { "content-type": "text/plain", "www-authenticate": "Bearer" });
      res.end("a bearer token is required\n");
      return true;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      res.end("GET only\n");
      return true;
    }
    try {
      const { contentType, body } = await metrics.render();
      res.writeHead(200, { "content-type": contentType });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (e) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`metrics could not be read: ${errorMessage(e)}\n`);
    }
    return true;
  };
}

/** `/metrics` as a route of another server that guards it already (the status page: `mounts`). */
export function metricsMount(metrics: Metrics): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const handle = metricsHandler(metrics);
  return async (req, res) => {
    if (await handle(req, res)) return;
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found\n");
  };
}
