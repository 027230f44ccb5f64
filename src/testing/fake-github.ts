/**
 * A fake GitHub REST API for tests and benchmarks, on 127.0.0.1, serving real git repositories in temp
 * folders: repository, branches, commits, trees (truncated past a size), compare (with its file limit
 * and pagination), blobs and /rate_limit, with ETags and 304s, primary limits with GitHub's headers and
 * windows, secondary limits and injected faults. test/fake-github.test.ts holds its bodies to GitHub's
 * published OpenAPI schemas.
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { DOCS, errorBody, idOf, rateLimitBody, SECONDARY_MESSAGE } from "./fake-github-bodies.js";
import { GitRepoReader } from "./fake-github-git.js";
import { InFlight, RateWindows, type LimitState } from "./fake-github-limits.js";
import {
  BodyCache,
  notFound,
  repoRoute,
  type RouteContext,
  type RouteResult,
  type ServedRepo,
} from "./fake-github-routes.js";
import type {
  FakeGitHub,
  FakeGitHubFault,
  FakeGitHubOptions,
  FakeGitHubRequest,
} from "./fake-github-types.js";

export type * from "./fake-github-types.js";

/** Entries kept in `requests`. */
export const MAX_REQUESTS_KEPT = 1_000_000;
const DEFAULT_TOKEN_LIMIT = 5000;
const BODY_CACHE_BYTES = 512 * 1024 * 1024;
const PRIMARY_DOCS = `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api`;
const SECONDARY_DOCS = `${PRIMARY_DOCS}#about-secondary-rate-limits`;

type Auth = { ok: true; token: string | null } | { ok: false };

class FakeGitHubServer implements FakeGitHub {
  url = "";
  readonly requests: FakeGitHubRequest[] = [];

  private readonly server: http.Server;
  private readonly repos = new Map<string, ServedRepo>();
  private readonly windows: RateWindows;
  private readonly inFlight = new InFlight();
  private readonly countedBy = new Map<string | null, number>();
  private statuses: Record<number, number> = {};
  private faults: { fault: FakeGitHubFault; left: number }[] = [];
  private readonly cache = new BodyCache(BODY_CACHE_BYTES);
  private readonly prefix: string;
  private readonly anonymousLimit: number;
  private readonly treeTruncateAt: number;
  private readonly compareFileLimit: number;
  private origin = "";
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: FakeGitHubOptions) {
    this.prefix = (opts.prefix ?? "").replace(/\/+$/, "");
    if (this.prefix !== "" && !this.prefix.startsWith("/")) throw new RangeError("prefix must start with /");
    this.windows = new RateWindows(positive(opts.windowSeconds, 3600, "windowSeconds") * 1000);
    this.anonymousLimit = positive(opts.anonymousLimit, 60, "anonymousLimit");
    this.treeTruncateAt = positive(opts.treeTruncateAt, 100_000, "treeTruncateAt");
    this.compareFileLimit = positive(opts.compareFileLimit, 300, "compareFileLimit");
    for (const [token, { limit }] of Object.entries(opts.tokens ?? {}))
      positive(limit, 0, `tokens[${token}].limit`);
    for (const [full, repo] of Object.entries(opts.repos)) {
      if (!/^[^/\s]+\/[^/\s]+$/.test(full)) throw new RangeError(`repos: "${full}" is not owner/name`);
      this.repos.set(full, { reader: new GitRepoReader(repo.dir), defaultBranch: repo.defaultBranch });
    }
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (res.headersSent || res.destroyed) res.destroy();
        else
          this.send(res, { status: 500, body: JSON.stringify(errorBody(500, `fake: ${String(err)}`)) }, {});
      });
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject);
        this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        this.url = this.origin + this.prefix;
        resolve();
      });
    });
  }

  counted(token?: string | null): number {
    if (token !== undefined) return this.countedBy.get(token) ?? 0;
    let total = 0;
    for (const n of this.countedBy.values()) total += n;
    return total;
  }

  statusCounts(): Record<number, number> {
    return { ...this.statuses };
  }

  maxInFlight(token?: string | null): number {
    return this.inFlight.maxSeen(token);
  }

  inject(fault: FakeGitHubFault): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError("inject: times must be a positive integer");
    this.faults.push({ fault, left: times });
  }

  resetWindows(): void {
    this.windows.clear();
  }

  clearRequests(): void {
    this.requests.length = 0;
    this.countedBy.clear();
    this.statuses = {};
    this.inFlight.clear();
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const repo of this.repos.values()) repo.reader.close();
    });
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? "/", this.origin);
    const inside = url.pathname === this.prefix || url.pathname.startsWith(`${this.prefix}/`);
    const path = inside ? url.pathname.slice(this.prefix.length) || "/" : url.pathname;
    const auth = parseAuth(req.headers.authorization, this.opts.tokens);
    const key = auth.ok ? auth.token : null;
    const log = { method: req.method ?? "GET", path: path + url.search, token: key, at };
    const inFlight = this.inFlight.enter(key);
    res.once("close", () => this.inFlight.leave(key));
    if (this.opts.latencyMs) await sleep(this.opts.latencyMs);

    const limit = this.limitOf(key);
    const headers = (): Record<string, string> => rateHeaders(this.windows.state(key, limit));
    if (!inside) return this.answer(res, log, notFound(), headers(), false);
    if (!auth.ok) {
      const body = JSON.stringify(errorBody(401, "Bad credentials"));
      return this.answer(res, log, { status: 401, body }, headers(), false);
    }
    const max = this.opts.secondaryMaxConcurrent;
    if (max !== undefined && inFlight > max) return this.answer(res, log, secondary(403), headers(), false);
    const fault = this.takeFault(log.path);
    if (fault) return this.answer(res, log, faultResult(fault), headers(), false);
    if (path === "/rate_limit") {
      const body = JSON.stringify(rateLimitBody(this.windows.state(key, limit), key !== null));
      return this.answer(res, log, { status: 200, body }, headers(), false);
    }
    const ticket = this.windows.take(key, limit);
    if (!ticket) return this.answer(res, log, this.primaryRefusal(key), headers(), false);

    const result =
      req.method === "GET"
        ? ((await repoRoute(this.routeContext(), this.repos, path, url.searchParams)) ?? notFound())
        : notFound();
    const etag = result.tag === undefined ? undefined : etagOf(result.tag, key);
    if (etag !== undefined && matches(req.headers["if-none-match"], etag)) {
      // GitHub: a 304 to an authorised request costs nothing; to an anonymous one it counts.
      if (key !== null) this.windows.refund(ticket);
      return this.answer(res, log, { status: 304, body: "", headers: { etag } }, headers(), key === null);
    }
    const extra = etag === undefined ? {} : { etag };
    return this.answer(res, log, { ...result, headers: { ...result.headers, ...extra } }, headers(), true);
  }

  private limitOf(key: string | null): number {
    if (key === null) return this.anonymousLimit;
    return this.opts.tokens?.[key]?.limit ?? DEFAULT_TOKEN_LIMIT;
  }

  private primaryRefusal(key: string | null): RouteResult {
    const who =
      key === null
        ? "127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)"
        : `user ID ${idOf(`token:${key}`)}.`;
    const status = this.opts.primaryLimitStatus ?? 403;
    return {
      status,
      body: JSON.stringify(errorBody(status, `API rate limit exceeded for ${who}`, PRIMARY_DOCS)),
    };
  }

  private takeFault(path: string): FakeGitHubFault | undefined {
    const i = this.faults.findIndex(({ fault }) => {
      if (fault.match) fault.match.lastIndex = 0;
      return fault.match?.test(path) ?? true;
    });
    const entry = this.faults[i];
    if (!entry) return undefined;
    entry.left -= 1;
    if (entry.left <= 0) this.faults.splice(i, 1);
    return entry.fault;
  }

  private routeContext(): RouteContext {
    const { treeTruncateAt, compareFileLimit, cache } = this;
    return { api: this.url, html: this.origin, treeTruncateAt, compareFileLimit, cache };
  }

  private answer(
    res: http.ServerResponse,
    log: Omit<FakeGitHubRequest, "status" | "counted">,
    result: RouteResult,
    rate: Record<string, string>,
    counted: boolean,
  ): void {
    if (counted) this.countedBy.set(log.token, (this.countedBy.get(log.token) ?? 0) + 1);
    this.statuses[result.status] = (this.statuses[result.status] ?? 0) + 1;
    this.requests.push({ ...log, status: result.status, counted });
    if (this.requests.length > MAX_REQUESTS_KEPT) this.requests.splice(0, MAX_REQUESTS_KEPT / 10);
    this.send(res, result, rate);
  }

  private send(res: http.ServerResponse, result: RouteResult, rate: Record<string, string>): void {
    if (res.destroyed || res.headersSent) return;
    const headers: Record<string, string | number> = {
      ...rate,
      "x-github-media-type": "github.v3; format=json",
      "x-github-api-version-selected": "2022-11-28",
      vary: "Accept, Authorization, Cookie, X-GitHub-OTP",
      ...result.headers,
    };
    if (result.status === 304) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const payload = typeof result.body === "string" ? Buffer.from(result.body, "utf8") : result.body;
    headers["content-type"] = "application/json; charset=utf-8";
    headers["content-length"] = payload.length;
    res.writeHead(result.status, headers);
    res.end(payload);
  }
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!(v > 0)) throw new RangeError(`${name} must be positive`);
  return v;
}

/** `Bearer T` or `token T`; no header → anonymous; anything else, or a token not in `tokens`, → not ok. */
function parseAuth(header: string | undefined, tokens: FakeGitHubOptions["tokens"]): Auth {
  if (header === undefined) return { ok: true, token: null };
  const m = /^(?:bearer|token)\s+(\S+)\s*$/i.exec(header);
  if (!m) return { ok: false };
  const token = m[1]!;
  if (tokens && !Object.hasOwn(tokens, token)) return { ok: false };
  return { ok: true, token };
}

function rateHeaders(s: LimitState): Record<string, string> {
  return {
    "x-ratelimit-limit": String(s.limit),
    "x-ratelimit-remaining": String(s.remaining),
    "x-ratelimit-used": String(s.used),
    "x-ratelimit-reset": String(s.reset),
    "x-ratelimit-resource": "core",
  };
}

function secondary(status: number, retryAfter?: number): RouteResult {
  const result: RouteResult = {
    status,
    body: JSON.stringify(errorBody(status, SECONDARY_MESSAGE, SECONDARY_DOCS)),
  };
  if (retryAfter !== undefined) result.headers = { "retry-after": String(retryAfter) };
  return result;
}

function faultResult(fault: FakeGitHubFault): RouteResult {
  if (fault.secondary) return secondary(fault.status, fault.retryAfter);
  const message = http.STATUS_CODES[fault.status] ?? "Injected fault";
  const result: RouteResult = {
    status: fault.status,
    body: JSON.stringify(errorBody(fault.status, message)),
  };
  if (fault.retryAfter !== undefined) result.headers = { "retry-after": String(fault.retryAfter) };
  return result;
}

/** ETags differ by caller, as GitHub's do (its responses vary by Authorization). */
function etagOf(tag: string, key: string | null): string {
  return `W/"${createHash("sha256")
    .update(`${key ?? ""}\0${tag}`)
    .digest("hex")}"`;
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = etag.replace(/^W\//, "");
  return ifNoneMatch.split(",").some((t) => {
    const v = t.trim();
    return v === "*" || v.replace(/^W\//, "") === bare;
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts a fake GitHub REST API on 127.0.0.1 serving `opts.repos`. */
export async function startFakeGitHub(opts: FakeGitHubOptions): Promise<FakeGitHub> {
  const server = new FakeGitHubServer(opts);
  await server.listen(opts.port ?? 0);
  return server;
}
