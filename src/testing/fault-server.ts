/**
 * A fault-injecting HTTP server for tests and benchmarks. Loopback only (127.0.0.1, port 0 by default).
 *
 * Serves deterministic products → features → tests listings (page / offset / cursor pagination, `since`)
 * and an OpenAI-compatible `POST /v1/embeddings`, and can inject faults: 5xx statuses, 429 / 403 rate
 * limits, connection resets, stalls and malformed JSON — scripted per request, random from a seeded PRNG,
 * or via an enforced fixed-window rate limit.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { buildData, seededRandom, type Feature, type Product, type TestCase } from "./fault-data.js";
import { embeddingsResponse, readBody } from "./fault-embeddings.js";
import { byUpdatedThenId, paginate, type Timestamped } from "./fault-paging.js";
import { FixedWindowLimiter } from "./fault-ratelimit.js";
import type {
  Fault,
  FaultLogEntry,
  FaultRequest,
  FaultServer,
  FaultServerOptions,
  FaultServerStats,
} from "./fault-types.js";

export type { Feature, Product, TestCase } from "./fault-data.js";
export type * from "./fault-types.js";

/** Longest stall honoured, in ms. */
export const MAX_STALL_MS = 30_000;
/** Entries kept in `log`. */
export const MAX_LOG_ENTRIES = 100_000;
/** Pseudo-status recorded when the client went away (or the server closed) during a stall. */
export const CLIENT_CLOSED_STATUS = 499;

const JSON_TYPE = "application/json";
const MALFORMED_BODY = '{"items": [';

type Headers = Record<string, string>;

class FaultServerImpl implements FaultServer {
  url = "";
  readonly stats: FaultServerStats = {
    requests: 0,
    byStatus: {},
    byPath: {},
    rateLimited: 0,
    resets: 0,
    embeddingInputs: 0,
  };
  readonly log: FaultLogEntry[] = [];
  embeddingsDown = false;
  readonly data: { products: Product[]; features: Feature[]; tests: TestCase[] };

  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly stallCancels = new Set<() => void>();
  private readonly pageSize: number;
  private readonly dim: number;
  private readonly limiter: FixedWindowLimiter | undefined;
  private script: FaultServerOptions["script"];
  private random: { rate: number; kinds: Fault[]; next: () => number } | undefined;
  private sortedProducts: Product[] | undefined;
  private readonly productById = new Map<number, Product>();
  private readonly featuresByProduct = new Map<number, Feature[]>();
  private readonly testsByFeature = new Map<number, TestCase[]>();
  private latestProductMs = 0;
  private closing: Promise<void> | undefined;

  constructor(options: FaultServerOptions) {
    this.pageSize = positiveInt(options.pageSize, 20, "pageSize");
    this.dim = positiveInt(options.embeddingDim, 16, "embeddingDim");
    this.limiter = options.rateLimit && new FixedWindowLimiter(options.rateLimit);
    this.script = options.script;
    this.setRandomFaults(options.randomFaults);
    this.data = buildData({
      products: nonNegativeInt(options.products, 6, "products"),
      featuresPerProduct: nonNegativeInt(options.featuresPerProduct, 3, "featuresPerProduct"),
      testsPerFeature: nonNegativeInt(options.testsPerFeature, 4, "testsPerFeature"),
    });
    for (const p of this.data.products) {
      this.latestProductMs = Math.max(this.latestProductMs, Date.parse(p.updated_at));
      this.productById.set(p.id, p);
      this.featuresByProduct.set(p.id, []);
    }
    for (const f of this.data.features) {
      this.featuresByProduct.get(f.product_id)!.push(f);
      this.testsByFeature.set(f.id, []);
    }
    for (const t of this.data.tests) this.testsByFeature.get(t.feature_id)!.push(t);
    for (const list of this.featuresByProduct.values()) list.sort(byUpdatedThenId);
    for (const list of this.testsByFeature.values()) list.sort(byUpdatedThenId);

    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (res.headersSent || res.destroyed) res.destroy();
        else this.send(req, res, 500, { error: `internal error: ${String(err)}` });
      });
    });
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject);
        const addr = this.server.address() as AddressInfo;
        this.url = `http://127.0.0.1:${addr.port}`;
        resolve();
      });
    });
  }

  setScript(script: FaultServerOptions["script"]): void {
    this.script = script;
  }

  setRandomFaults(f: FaultServerOptions["randomFaults"] | undefined): void {
    if (!f) {
      this.random = undefined;
      return;
    }
    if (!(f.rate >= 0 && f.rate <= 1)) throw new RangeError("randomFaults.rate must be within [0, 1]");
    if (f.kinds.length === 0 && f.rate > 0) throw new RangeError("randomFaults.kinds must not be empty");
    this.random = { rate: f.rate, kinds: [...f.kinds], next: seededRandom(f.seed ?? 1) };
  }

  touchProduct(id: number): void {
    const product = this.productById.get(id);
    if (!product) throw new RangeError(`unknown product ${id}`);
    // "Now", but never at or before any existing product timestamp, so `since` clients always see it.
    this.latestProductMs = Math.max(Date.now(), this.latestProductMs + 1);
    product.updated_at = new Date(this.latestProductMs).toISOString();
    product.version += 1;
    this.sortedProducts = undefined;
  }

  resetStats(): void {
    const s = this.stats;
    s.requests = s.rateLimited = s.resets = s.embeddingInputs = 0;
    for (const k of Object.keys(s.byStatus)) Reflect.deleteProperty(s.byStatus, k);
    for (const k of Object.keys(s.byPath)) Reflect.deleteProperty(s.byPath, k);
    this.log.length = 0;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const cancel of [...this.stallCancels]) cancel();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = requestUrl(req, this.url);
    const method = req.method ?? "GET";
    const path = url.pathname;
    this.stats.requests += 1;
    this.stats.byPath[path] = (this.stats.byPath[path] ?? 0) + 1;

    const limit = this.limiter?.take();
    for (const [k, v] of Object.entries(limit?.headers ?? {})) res.setHeader(k, v);
    if (limit?.reject) {
      this.stats.rateLimited += 1;
      this.send(req, res, limit.reject.status, { error: "rate limit exceeded" }, limit.reject.headers);
      return;
    }

    const fault = this.decideFault({ method, path, n: this.stats.requests });
    if (fault) {
      switch (fault.kind) {
        case "status":
          this.send(req, res, fault.status, { error: `injected ${fault.status}` });
          return;
        case "429":
          this.send(
            req,
            res,
            429,
            { error: "too many requests" },
            fault.retryAfter === undefined ? {} : { "retry-after": fault.retryAfter },
          );
          return;
        case "403-ratelimit":
          this.send(
            req,
            res,
            403,
            { error: "API rate limit exceeded" },
            {
              "x-ratelimit-remaining": "0",
              "x-ratelimit-reset": String(Math.ceil((Date.now() + fault.resetInSeconds * 1000) / 1000)),
            },
          );
          return;
        case "reset":
          this.stats.resets += 1;
          this.record(req, "reset");
          req.socket.resetAndDestroy();
          return;
        case "malformed":
          this.sendRaw(req, res, 200, MALFORMED_BODY);
          return;
        case "stall":
          if (!(await this.stall(res, fault.ms))) {
            this.record(req, CLIENT_CLOSED_STATUS);
            res.destroy();
            return;
          }
          break;
      }
    }
    await this.route(req, res, url);
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const get = req.method === "GET";
    if (get && path === "/products") {
      this.sortedProducts ??= [...this.data.products].sort(byUpdatedThenId);
      this.sendPage(req, res, this.sortedProducts, url);
      return;
    }
    const featuresMatch = /^\/products\/(\d{1,12})\/features$/.exec(path);
    if (get && featuresMatch) {
      const list = this.featuresByProduct.get(Number(featuresMatch[1]));
      if (list) this.sendPage(req, res, list, url);
      else this.send(req, res, 404, { error: "not found" });
      return;
    }
    const testsMatch = /^\/features\/(\d{1,12})\/tests$/.exec(path);
    if (get && testsMatch) {
      const list = this.testsByFeature.get(Number(testsMatch[1]));
      if (list) this.sendPage(req, res, list, url);
      else this.send(req, res, 404, { error: "not found" });
      return;
    }
    if (req.method === "POST" && path === "/v1/embeddings") {
      await this.embeddings(req, res);
      return;
    }
    this.send(req, res, 404, { error: "not found" });
  }

  private sendPage(req: http.IncomingMessage, res: http.ServerResponse, list: Timestamped[], url: URL): void {
    const page = paginate(list, url, this.pageSize);
    this.send(req, res, page.status, page.body, page.headers);
  }

  private async embeddings(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.embeddingsDown) {
      this.send(req, res, 503, {
        error: { message: "embeddings service unavailable", type: "server_error" },
      });
      return;
    }
    const result = embeddingsResponse(await readBody(req), this.dim);
    this.stats.embeddingInputs += result.inputs;
    this.send(req, res, result.status, result.body);
  }

  private decideFault(req: FaultRequest): Fault | undefined {
    const scripted = this.script?.(req);
    if (scripted) return scripted;
    const r = this.random;
    if (!r || r.kinds.length === 0) return undefined;
    if (r.next() >= r.rate) return undefined;
    return r.kinds[Math.floor(r.next() * r.kinds.length)];
  }

  /** Resolves true after `ms` (capped), false if the client went away or the server is closing first. */
  private stall(res: http.ServerResponse, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        res.off("close", onClose);
        this.stallCancels.delete(onClose);
        resolve(ok);
      };
      const onClose = (): void => finish(false);
      const wait = Number.isFinite(ms) ? Math.min(Math.max(0, ms), MAX_STALL_MS) : MAX_STALL_MS;
      const timer = setTimeout(() => finish(!this.closing), wait);
      res.on("close", onClose);
      this.stallCancels.add(onClose);
    });
  }

  private send(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Headers = {},
  ): void {
    this.sendRaw(req, res, status, JSON.stringify(body), headers);
  }

  private sendRaw(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    text: string,
    headers: Headers = {},
  ): void {
    if (res.destroyed || res.headersSent) return;
    this.record(req, status);
    const payload = Buffer.from(text, "utf8");
    res.writeHead(status, { ...headers, "content-type": JSON_TYPE, "content-length": payload.length });
    res.end(payload);
  }

  private record(req: http.IncomingMessage, status: number | "reset"): void {
    if (typeof status === "number") this.stats.byStatus[status] = (this.stats.byStatus[status] ?? 0) + 1;
    const path = requestUrl(req, this.url).pathname;
    this.log.push({ t: Date.now(), method: req.method ?? "GET", path, status });
    if (this.log.length > MAX_LOG_ENTRIES) this.log.shift();
  }
}

/** The request's absolute URL on this server; unparsable targets map to "/" (→ 404). */
function requestUrl(req: http.IncomingMessage, base: string): URL {
  try {
    return new URL(req.url ?? "/", base);
  } catch {
    return new URL("/", base);
  }
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer`);
  return v;
}

function nonNegativeInt(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer`);
  return v;
}

/** Starts a fault-injecting server on 127.0.0.1 (port 0 unless `options.port`). */
export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const server = new FaultServerImpl(options);
  await server.listen(options.port ?? 0);
  return server;
}
