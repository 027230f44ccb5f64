/** Public types of the fake GitHub REST API server (re-exported by fake-github.ts). */

export interface FakeRepo {
  /** A real git repository in a temp folder (non-bare is fine); read live, so new commits and force-pushes show. */
  dir: string;
  /** Default: the branch the repository's HEAD names. */
  defaultBranch?: string;
}

export interface FakeGitHubOptions {
  /** "owner/name" → repository. */
  repos: Record<string, FakeRepo>;
  /**
   * Valid tokens and their budget per window. Omitted: every token is valid with 5000. Given: any other
   * token is answered 401 "Bad credentials".
   */
  tokens?: Record<string, { limit: number }>;
  /** Budget per window of anonymous requests, which all share one budget (one client). Default 60. */
  anonymousLimit?: number;
  /** Default 3600. A window starts at a budget's first counted request; x-ratelimit-reset is its end, rounded up. */
  windowSeconds?: number;
  /** Recursive trees with more entries than this answer `truncated: true` with the first this many. Default 100,000. */
  treeTruncateAt?: number;
  /** Compare lists at most this many files, on its first page only, without saying so. Default 300. */
  compareFileLimit?: number;
  /** Path prefix: "" (default, like api.github.com) or "/api/v3" (like GitHub Enterprise Server). */
  prefix?: string;
  /** Status of a request refused by an exhausted primary limit. Default 403. */
  primaryLimitStatus?: 403 | 429;
  /** More concurrent in-flight requests than this per budget (token, or anonymous) → 403 secondary limit. */
  secondaryMaxConcurrent?: number;
  /** Added to every response, in ms (the request is in flight meanwhile). */
  latencyMs?: number;
  /** Port to listen on (always 127.0.0.1); default 0 = any free port. */
  port?: number;
}

export interface FakeGitHubRequest {
  method: string;
  /** Path after the prefix, with the query string, e.g. "/repos/o/r/git/trees/abc?recursive=1". */
  path: string;
  /** The token sent, or null for an anonymous request. */
  token: string | null;
  status: number;
  /** Whether it used a unit of its budget (see FakeGitHub.counted). */
  counted: boolean;
  /** Epoch ms when the request arrived. */
  at: number;
}

export interface FakeGitHubFault {
  /** Status to answer with (e.g. 500, 502, 503; 403 or 429 with `secondary`). */
  status: number;
  /** How many matching requests get it; default 1. */
  times?: number;
  /** Seconds, sent as retry-after. */
  retryAfter?: number;
  /** Answer with GitHub's secondary-limit message. */
  secondary?: boolean;
  /** Only requests whose path (after the prefix, with the query) matches. */
  match?: RegExp;
}

export interface FakeGitHub {
  /** e.g. http://127.0.0.1:PORT, plus the prefix. */
  url: string;
  /** Every request answered, in order (bounded to the last 1,000,000). */
  requests: FakeGitHubRequest[];
  /**
   * Requests that used a unit of a budget: of the token given, of anonymous ones (null), or of all
   * (undefined). Not counted: /rate_limit, authorised 304s, 401s, refusals by a primary or secondary limit,
   * injected faults, and paths outside the prefix.
   */
  counted(token?: string | null): number;
  /** Responses by status. */
  statusCounts(): Record<number, number>;
  /** Most requests in flight at once: of a token, of anonymous ones (null), or of all (undefined). */
  maxInFlight(token?: string | null): number;
  /** Answers the next `times` matching requests with `status` (before the primary limit; not counted). */
  inject(fault: FakeGitHubFault): void;
  /** Ends every budget's window: the next counted request starts a new one. */
  resetWindows(): void;
  /** Clears `requests`, counted(), statusCounts() and maxInFlight() (not the windows). */
  clearRequests(): void;
  /** Closes the server, its connections and its git processes. Idempotent. */
  close(): Promise<void>;
}
