// Section 9 (child process): the naive walk of a GitHub repository with @octokit/rest + @octokit/plugin-throttling,
// as code written by hand against the REST API does it: the branch, its tree (recursive), then one
// `git.getBlob` per file, WORKERS at a time, each blob decoded and its bytes counted (nothing stored).
// Throttling: the plugin's defaults (per process: at most 10 requests in flight; on a primary limit it waits
// until x-ratelimit-reset + 1 s, on a secondary one Retry-After or 60 s) with handlers that retry up to
// MAX_RETRIES times per request and never past the deadline.
// Usage: node bench/github-octokit.mjs BASE_URL TOKEN OWNER/REPO BRANCH WORKERS DEADLINE_SECONDS [plain]
// `plain`: @octokit/rest alone, without the throttling plugin (a reference for where the time goes).
// Prints one JSON line: files, bytes, client-side requests, limit events, errors, wall time.
import { Octokit } from "@octokit/rest";
import { throttling } from "@octokit/plugin-throttling";
import { emitResult, now } from "./lib.mjs";

const [baseUrl, token, full, branch, workersArg, deadlineArg, mode] = process.argv.slice(2);
const [owner, repo] = full.split("/");
const WORKERS = Math.max(1, Number(workersArg) || 4);
const MAX_RETRIES = 5;
const deadline = Date.now() + Math.max(1, Number(deadlineArg) || 600) * 1000;

const events = { rateLimit: 0, secondaryLimit: 0, maxRetryAfterSeconds: 0, requests: 0 };
const Client = mode === "plain" ? Octokit : Octokit.plugin(throttling);
const octokit = new Client({
  auth: token,
  baseUrl,
  log: { debug() {}, info() {}, warn() {}, error() {} },
  throttle: {
    onRateLimit: (retryAfter, _options, _octokit, retryCount) => {
      events.rateLimit++;
      events.maxRetryAfterSeconds = Math.max(events.maxRetryAfterSeconds, retryAfter);
      return retryCount < MAX_RETRIES && Date.now() + retryAfter * 1000 < deadline;
    },
    onSecondaryRateLimit: (retryAfter, _options, _octokit, retryCount) => {
      events.secondaryLimit++;
      events.maxRetryAfterSeconds = Math.max(events.maxRetryAfterSeconds, retryAfter);
      return retryCount < MAX_RETRIES && Date.now() + retryAfter * 1000 < deadline;
    },
  },
});
octokit.hook.before("request", () => {
  events.requests++;
});

const t0 = now();
let files = 0;
let bytes = 0;
let failed = 0;
const errors = [];
const note = (e) => {
  failed++;
  if (errors.length < 3)
    errors.push(`${e?.status ?? ""} ${e instanceof Error ? e.message : String(e)}`.trim());
};

let listed = 0;
let truncated = false;
try {
  const { data: b } = await octokit.rest.repos.getBranch({ owner, repo, branch });
  const { data: tree } = await octokit.rest.git.getTree({
    owner,
    repo,
    tree_sha: b.commit.commit.tree.sha,
    recursive: "true",
  });
  truncated = tree.truncated;
  const blobs = tree.tree.filter((e) => e.type === "blob");
  listed = blobs.length;
  let next = 0;
  const worker = async () => {
    while (next < blobs.length && Date.now() < deadline) {
      const entry = blobs[next++];
      try {
        const { data } = await octokit.rest.git.getBlob({ owner, repo, file_sha: entry.sha });
        bytes += Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8").length;
        files++;
      } catch (e) {
        note(e);
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
} catch (e) {
  note(e);
}
emitResult({
  files,
  listed,
  truncated,
  bytes,
  failed,
  errors,
  ...events,
  clientWallMs: now() - t0,
  timedOut: Date.now() >= deadline,
  maxRssKiB: process.resourceUsage().maxRSS,
});
