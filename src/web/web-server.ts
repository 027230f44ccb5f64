import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { redact, registerSecret } from "../config/secrets.js";
import { errorMessage, isUsageError } from "../errors.js";
import { streamEvents } from "./event-stream.js";
import {
  activityChart,
  failedItems,
  MAX_PAGE,
  pageState,
  type NextRunOf,
  type WebServices,
} from "./page-data.js";
import {
  allowedHosts,
  bearerOf,
  checkHostAndOrigin,
  isLoopback,
  isRefusal,
  readJsonBody,
  Refusal,
  resolveToken,
  tokenMatches,
} from "./request-guard.js";

/*
 * The status page and its JSON API. Every request passes the Host/Origin check, then the token (a bearer
 * header, or the cookie a `?token=` link sets); actions are POST with a JSON body. What it shows and
 * does goes through the services only.
 */

export const WEB_TOKEN_ENV = ["SYNCWARDEN_WEB_TOKEN", "SYNCWARDEN_MCP_TOKEN"] as const;
const COOKIE = "syncwarden_web";
const MAX_BODY_BYTES = 64 * 1024;

/** A GET route served behind the same guard (the lead mounts `/metrics` here). */
export type Mount = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface WebServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** 127.0.0.1 unless given; any other address is reachable from the network (the token still guards it). */
  host?: string;
  /** Defaults to $SYNCWARDEN_WEB_TOKEN, then $SYNCWARDEN_MCP_TOKEN, else a random token printed once through `log`. */
  token?: string;
  log?: (line: string) => void;
  /** Where index.html, style.css and app.js are (the build's dist/web/client by default). */
  assetsDir?: string;
  /** More GET routes by path, e.g. { "/metrics": handler }. */
  mounts?: Record<string, Mount>;
  /** The daemon serving the page: when it next starts each job, shown in the jobs table. */
  nextRun?: NextRunOf;
}

export interface WebServerHandle {
  url: string;
  port: number;
  close(): Promise<void>;
}

const ASSETS: Record<string, string> = {
  "/": "index.html",
  "/style.css": "style.css",
  "/app.js": "app.js",
  "/app.js.map": "app.js.map",
};
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  map: "application/json",
};

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === COOKIE) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!(req.headers["content-type"] ?? "").startsWith("application/json"))
    throw new Refusal(415, "actions take a JSON body (content-type: application/json)");
  const body = await readJsonBody(req, MAX_BODY_BYTES);
  if (body !== null && typeof body === "object" && !Array.isArray(body))
    return body as Record<string, unknown>;
  throw new Refusal(400, "the request body is not a JSON object");
}

const str = (body: Record<string, unknown>, key: string): string | undefined => {
  const v = body[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "") throw new Refusal(400, `"${key}" must be a non-empty string`);
  return v;
};

function intParam(url: URL, name: string, fallback: number): number {
  const v = url.searchParams.get(name);
  if (v === null) return fallback;
  if (!/^\d+$/.test(v)) throw new Refusal(400, `?${name} must be a whole number, got "${v}"`);
  return Number(v);
}

export async function startWebServer(
  services: WebServices,
  opts: WebServerOptions,
): Promise<WebServerHandle> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bind = opts.host ?? "127.0.0.1";
  const { token, generated } = resolveToken(opts.token, WEB_TOKEN_ENV);
  const assetsDir = opts.assetsDir ?? fileURLToPath(new URL("./client/", import.meta.url));
  const mounts = opts.mounts ?? {};
  const cache = new Map<string, Buffer>();
  let hosts: string[] = [];

  const asset = async (res: ServerResponse, name: string): Promise<void> => {
    let body = cache.get(name);
    if (!body) {
      body = await readFile(join(assetsDir, name));
      cache.set(name, body);
    }
    res.writeHead(200, {
      "content-type": TYPES[name.split(".").at(-1)!] ?? "application/octet-stream",
      "cache-control": "no-cache",
      "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
      "x-content-type-options": "nosniff",
    });
    res.end(body);
  };

  const action = async (path: string, body: Record<string, unknown>): Promise<unknown> => {
    if (path === "/api/retry") {
      const ids = body.ids;
      if (ids !== undefined) {
        if (
          !Array.isArray(ids) ||
          ids.length > MAX_PAGE ||
          !ids.every((i) => Number.isInteger(i) && Number(i) > 0)
        )
          throw new Refusal(400, `"ids" must be a list of at most ${MAX_PAGE} item ids`);
        return { requeued: await services.sync.retryItems(ids as number[]) };
      }
      return { requeued: await services.sync.retryFailed(str(body, "job"), true) };
    }
    if (path === "/api/breaker") {
      const name = str(body, "name");
      const act = body.action;
      if (name === undefined) throw new Refusal(400, '"name" (a provider or replica target) is required');
      if (act !== "reset" && act !== "isolate")
        throw new Refusal(400, '"action" must be "reset" or "isolate"');
      if (name.startsWith("replica:")) await services.replicas.breaker(name, act);
      else await services.sync.breaker(name, act);
      return { name, action: act };
    }
    throw new Refusal(404, `no action at ${path}; actions: /api/retry, /api/breaker`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    checkHostAndOrigin(req, hosts);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const linked = url.searchParams.get("token");
    if (req.method === "GET" && linked !== null && tokenMatches(token, linked)) {
      // a link with the token sets the cookie, then drops the token from the address bar
      url.searchParams.delete("token");
      res.writeHead(303, {
        location: url.pathname + url.search,
        "set-cookie": `${COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
      });
      return void res.end();
    }
    if (!tokenMatches(token, bearerOf(req) ?? cookieToken(req)))
      return send(
        res,
        401,
        {
          error:
            "missing or invalid token: open the page as /?token=TOKEN or send Authorization: Bearer TOKEN",
        },
        {
          "www-authenticate": 'Bearer realm="syncwarden"',
        },
      );
    const path = url.pathname;
    if (path.startsWith("/api/") && req.method === "POST")
      return send(res, 200, await action(path, await readJson(req)));
    if (req.method !== "GET" && req.method !== "HEAD")
      throw new Refusal(405, `${req.method ?? "?"} is not allowed on ${path}`);
    const file = ASSETS[path];
    if (file) return asset(res, file);
    const mount = mounts[path];
    if (mount) return mount(req, res);
    switch (path) {
      case "/events":
        return streamEvents(services.events, res);
      case "/api/state":
        return send(res, 200, await pageState(services, opts.nextRun));
      case "/api/items": {
        const job = url.searchParams.get("job") ?? undefined;
        return send(
          res,
          200,
          await failedItems(services, {
            ...(job ? { job } : {}),
            after: intParam(url, "after", 0),
            limit: intParam(url, "limit", 50),
          }),
        );
      }
      case "/api/chart":
        return send(res, 200, await activityChart(services));
      case "/api/doctor":
        return send(res, 200, await services.health.run({ startSyncs: false }));
      case "/api/retry":
      case "/api/breaker":
        throw new Refusal(405, `${path} is an action: POST it with a JSON body`);
      default:
        throw new Refusal(404, `not found: ${path}`);
    }
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (isRefusal(e)) send(res, e.status, { error: e.message });
      else if (isUsageError(e)) send(res, 400, { error: redact(e.message) });
      else {
        log(`syncwarden serve: ${redact(errorMessage(e))}`);
        send(res, 500, { error: "internal error" });
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(opts.port, bind, () => {
      http.off("error", reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  hosts = allowedHosts(bind, port);
  const url = `http://${isLoopback(bind) ? "127.0.0.1" : bind.includes(":") ? `[${bind}]` : bind}:${port}/`;
  // the link first: "listening on" is the line a supervisor waits for, and the token must be out by then
  if (generated)
    log(`syncwarden serve: open ${url}?token=${token} (set SYNCWARDEN_WEB_TOKEN to choose your own)`);
  log(`syncwarden serve: listening on ${url} (token required)`);
  // printed once above, on purpose; nowhere after
  registerSecret(token);
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}
