/** Public types of the fault-injecting test server (re-exported by fault-server.ts). */
import type { Feature, Product, TestCase } from "./fault-data.js";

export type Fault =
  | { kind: "status"; status: 500 | 502 | 503 | 504 }
  /** Retry-After header value as given (seconds like "2", or an HTTP date); omitted → no header. */
  | { kind: "429"; retryAfter?: string }
  /** 403 with X-RateLimit-Remaining: 0 and X-RateLimit-Reset: epoch seconds of now + resetInSeconds. */
  | { kind: "403-ratelimit"; resetInSeconds: number }
  /** Destroys the socket (TCP RST) without a response: the client sees ECONNRESET / "fetch failed". */
  | { kind: "reset" }
  /** Waits `ms` (max 30000) before answering normally; aborted when the client goes away or on close(). */
  | { kind: "stall"; ms: number }
  /** 200 with body '{"items": [' (invalid JSON), content-type application/json. */
  | { kind: "malformed" };

export interface FaultRequest {
  method: string;
  path: string;
  /** 1-based count of requests so far (the same counter as stats.requests; restarts after resetStats()). */
  n: number;
}

export interface FaultServerOptions {
  /** Port to listen on (always 127.0.0.1); default 0 = any free port. */
  port?: number;
  /** Default 6. */
  products?: number;
  /** Default 3. */
  featuresPerProduct?: number;
  /** Default 4. */
  testsPerFeature?: number;
  /** Page size when the client sends none, default 20; clients may send per_page/limit up to 100. */
  pageSize?: number;
  /** Default 16. */
  embeddingDim?: number;
  /**
   * Enforced rate limit across all endpoints: more than `requests` within a fixed window of `windowMs` →
   * 429 with Retry-After (whole seconds until the window resets, at least 1), or with mode "403",
   * 403 + X-RateLimit-Remaining: 0 + X-RateLimit-Reset (epoch seconds). When set, every response carries
   * X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset. Checked before faults; a rate-limited
   * request does not consume a scripted/random fault decision. A window starts at the first request
   * after the last one ended (as GitHub's do), so its reset, in whole seconds, is rounded up; with
   * `aligned`, windows start at multiples of `windowMs` since the epoch (a limiter keyed by the current
   * window, as most Redis-backed ones are), and a whole-second window's reset is exact.
   */
  rateLimit?: { requests: number; windowMs: number; mode?: "429" | "403"; aligned?: boolean };
  /**
   * Random mixed faults: each request (unless the script returns a fault) gets a fault with probability
   * `rate`, the kind chosen uniformly from `kinds`, from a seeded PRNG (seed default 1).
   */
  randomFaults?: { rate: number; kinds: Fault[]; seed?: number };
  /** Called per request: a Fault to inject, or undefined for a normal answer. Takes precedence over randomFaults. */
  script?: (req: FaultRequest) => Fault | undefined;
}

export interface FaultServerStats {
  requests: number;
  /** Final statuses; 499 = the client went away (or the server closed) during a stall. Resets are in `resets`. */
  byStatus: Record<number, number>;
  /** Request counts by URL pathname (no query). */
  byPath: Record<string, number>;
  rateLimited: number;
  resets: number;
  embeddingInputs: number;
}

export interface FaultLogEntry {
  /** Epoch milliseconds when the outcome was recorded. */
  t: number;
  method: string;
  path: string;
  status: number | "reset";
}

export interface FaultServer {
  /** e.g. http://127.0.0.1:43567 */
  url: string;
  /** Live counters (the same object for the server's lifetime; resetStats() zeroes it in place). */
  stats: FaultServerStats;
  /** Bounded to the last 100,000 entries. */
  log: FaultLogEntry[];
  setScript(script: FaultServerOptions["script"]): void;
  /** Replaces (and reseeds) the random faults; undefined turns them off. */
  setRandomFaults(f: FaultServerOptions["randomFaults"] | undefined): void;
  /** While true, /v1/embeddings answers 503 (an outage). */
  embeddingsDown: boolean;
  /** Marks a product as changed: bumps its updated_at to now (ISO; kept after every other product's) and its version. */
  touchProduct(id: number): void;
  /** The expected data, for assertions: every product/feature/test record (live: touchProduct mutates it). */
  data: { products: Product[]; features: Feature[]; tests: TestCase[] };
  resetStats(): void;
  /** Closes the server and destroys open sockets; resolves quickly even with stalls in flight. Idempotent. */
  close(): Promise<void>;
}
