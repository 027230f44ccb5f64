import { chmodSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import type { FormatsPlugin } from "ajv-formats";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub, type FakeGitHubOptions } from "../src/testing/fake-github.js";
import { ROOT, Workspace } from "./helpers/workspace.js";

// The fake's bodies are held to GitHub's own OpenAPI description: test/fixtures/github-openapi-schemas.json,
// extracted by scripts/extract-github-schemas.mjs from @octokit/openapi.
const addFormats = createRequire(import.meta.url)("ajv-formats") as FormatsPlugin;
const fixture = JSON.parse(
  readFileSync(path.join(ROOT, "test/fixtures/github-openapi-schemas.json"), "utf8"),
) as {
  routes: Record<string, { schema: string }>;
  $defs: Record<string, object>;
};
const ajv = new Ajv({ strict: true, allErrors: true });
addFormats(ajv);
ajv.addSchema({ $id: "github", $defs: fixture.$defs });

type Route =
  | "GET /repos/{owner}/{repo}"
  | "GET /repos/{owner}/{repo}/branches/{branch}"
  | "GET /repos/{owner}/{repo}/commits/{ref}"
  | "GET /repos/{owner}/{repo}/git/trees/{tree_sha}"
  | "GET /repos/{owner}/{repo}/compare/{basehead}"
  | "GET /repos/{owner}/{repo}/git/blobs/{file_sha}"
  | "GET /rate_limit";

function schema(name: string): ValidateFunction {
  const v = ajv.getSchema(`github#/$defs/${name}`);
  if (!v) throw new Error(`no schema ${name} in the fixture`);
  return v;
}

/** Fails with ajv's reasons when `body` does not match the route's 200 schema (or a named one). */
function expectValid(route: Route | { schema: string }, body: unknown): void {
  const name = typeof route === "string" ? fixture.routes[route]?.schema : route.schema;
  const validate = schema(name ?? "missing");
  const ok = validate(body);
  expect(ok ? [] : ajv.errorsText(validate.errors, { separator: "\n" }).split("\n")).toEqual([]);
}

interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

const MAX_WALK = 1000;
const MESSAGE_SECONDARY = "You have exceeded a secondary rate limit";
const PNG = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe, 0x00,
]);

let ws: Workspace;
let fake: FakeGitHub | undefined;
let c1 = "";
let c2 = "";

async function start(opts: Partial<FakeGitHubOptions> = {}): Promise<FakeGitHub> {
  fake = await startFakeGitHub({ repos: { "octo/demo": { dir: ws.repo } }, ...opts });
  return fake;
}

async function get(
  p: string,
  init: { token?: string; scheme?: string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { accept: "application/vnd.github+json", ...init.headers };
  if (init.token !== undefined) headers.authorization = `${init.scheme ?? "Bearer"} ${init.token}`;
  const res = await fetch(`${fake!.url}${p}`, { headers });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

function rate(r: Reply): {
  limit: number;
  remaining: number;
  used: number;
  reset: number;
  resource: string | null;
} {
  const n = (h: string): number => Number(r.headers.get(`x-ratelimit-${h}`));
  return {
    limit: n("limit"),
    remaining: n("remaining"),
    used: n("used"),
    reset: n("reset"),
    resource: r.headers.get("x-ratelimit-resource"),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

beforeEach(() => {
  ws = new Workspace();
  ws.commit(
    {
      "README.md": "# demo\n",
      "old.txt": "a file that will be renamed\nwith two lines\n",
      "docs/guide.md": "a guide that will be deleted\n",
      "src/a.ts": "export const a = 1;\n",
      "src/lib/b.ts": "export const b = 2;\n",
      "src/lib/deep/c.ts": "export const c = 3;\n",
      "assets/logo.png": PNG,
      "scripts/run.sh": "#!/bin/sh\necho run\n",
    },
    "first",
  );
  chmodSync(path.join(ws.repo, "scripts/run.sh"), 0o755);
  c1 = ws.commit({}, "make run.sh executable");
  ws.git("mv", "old.txt", "renamed.txt");
  c2 = ws.commit(
    {
      "docs/guide.md": null,
      "src/a.ts": "export const a = 10;\nexport const z = 0;\n",
      "src/new.ts": "new\n",
    },
    "second",
  );
});

afterEach(async () => {
  await fake?.close();
  fake = undefined;
  ws.cleanup();
});

describe("the fake GitHub's bodies match GitHub's OpenAPI schemas", () => {
  it("serves every route with bodies that validate, from the real repository", async () => {
    await start({ tokens: { t1: { limit: 100 } } });
    const auth = { token: "t1" };

    const repo = await get("/repos/octo/demo", auth);
    expect(repo.status).toBe(200);
    expectValid("GET /repos/{owner}/{repo}", repo.body);
    expect(repo.body).toMatchObject({ full_name: "octo/demo", default_branch: "main", name: "demo" });

    const branch = await get("/repos/octo/demo/branches/main", auth);
    expectValid("GET /repos/{owner}/{repo}/branches/{branch}", branch.body);
    expect(branch.body).toMatchObject({ name: "main", commit: { sha: c2 } });
    expect(branch.headers.get("etag")).toMatch(/^W\/"[0-9a-f]+"$/);

    for (const ref of ["main", c1]) {
      const commit = await get(`/repos/octo/demo/commits/${ref}`, auth);
      expectValid("GET /repos/{owner}/{repo}/commits/{ref}", commit.body);
      expect(commit.body.sha).toBe(ref === "main" ? c2 : c1);
    }

    const treeSha = ws.git("rev-parse", `${c2}^{tree}`);
    const tree = await get(`/repos/octo/demo/git/trees/${treeSha}?recursive=1`, auth);
    expectValid("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", tree.body);
    const expected = ws
      .git("ls-tree", "-r", "-t", c2)
      .split("\n")
      .map((line) => {
        const [meta, p] = line.split("\t") as [string, string];
        const [mode, type, sha] = meta.split(" ");
        return { path: p, mode, type, sha };
      });
    const entries = tree.body.tree as {
      path: string;
      mode: string;
      type: string;
      sha: string;
      size?: number;
    }[];
    expect(entries.map(({ path: p, mode, type, sha }) => ({ path: p, mode, type, sha }))).toEqual(expected);
    expect(tree.body.truncated).toBe(false);
    expect(entries.find((e) => e.path === "scripts/run.sh")?.mode).toBe("100755");
    expect(entries.find((e) => e.path === "assets/logo.png")?.size).toBe(PNG.length);
    expect(entries.find((e) => e.path === "src/lib")?.size).toBeUndefined();

    const top = await get(`/repos/octo/demo/git/trees/main`, auth);
    expectValid("GET /repos/{owner}/{repo}/git/trees/{tree_sha}", top.body);
    expect((top.body.tree as { path: string }[]).map((e) => e.path)).toEqual(
      ws.git("ls-tree", "--name-only", c2).split("\n"),
    );

    const logo = entries.find((e) => e.path === "assets/logo.png")!;
    const blob = await get(`/repos/octo/demo/git/blobs/${logo.sha}`, auth);
    expectValid("GET /repos/{owner}/{repo}/git/blobs/{file_sha}", blob.body);
    expect(blob.body).toMatchObject({ sha: logo.sha, size: PNG.length, encoding: "base64" });
    expect(Buffer.from(blob.body.content as string, "base64")).toEqual(PNG);

    const compare = await get(`/repos/octo/demo/compare/${c1}...${c2}`, auth);
    expectValid("GET /repos/{owner}/{repo}/compare/{basehead}", compare.body);
    expect(compare.body).toMatchObject({ status: "ahead", ahead_by: 1, behind_by: 0, total_commits: 1 });
    const files = compare.body.files as {
      filename: string;
      status: string;
      sha: string;
      previous_filename?: string;
    }[];
    const byName = Object.fromEntries(files.map((f) => [f.filename, f]));
    expect(byName["renamed.txt"]).toMatchObject({ status: "renamed", previous_filename: "old.txt" });
    expect(byName["docs/guide.md"]).toMatchObject({ status: "removed" });
    expect(byName["src/a.ts"]).toMatchObject({
      status: "modified",
      sha: ws.git("rev-parse", `${c2}:src/a.ts`),
      additions: 2,
      deletions: 1,
    });
    expect(byName["src/new.ts"]).toMatchObject({
      status: "added",
      sha: ws.git("rev-parse", `${c2}:src/new.ts`),
    });
    expect(files).toHaveLength(4);

    const limits = await get("/rate_limit", auth);
    expectValid("GET /rate_limit", limits.body);
    expect(limits.body).toMatchObject({
      resources: { core: { limit: 100, used: 8, remaining: 92, resource: "core" } },
    });

    for (const p of [
      "/repos/octo/nothing",
      "/repos/octo/demo/branches/nope",
      `/repos/octo/demo/git/blobs/${"0".repeat(40)}`,
    ]) {
      const missing = await get(p, auth);
      expect(missing.status).toBe(404);
      expect(missing.body.message).toBe("Not Found");
      expectValid({ schema: "basic-error" }, missing.body);
    }
  });

  it("has schemas with teeth: a body that drifts from GitHub's fails them", async () => {
    await start();
    const repo = (await get("/repos/octo/demo")).body;
    const validate = schema(fixture.routes["GET /repos/{owner}/{repo}"]!.schema);
    expect(validate(repo)).toBe(true);
    expect(validate({ ...repo, default_branch: undefined })).toBe(false);
    expect(validate({ ...repo, id: "1" })).toBe(false);
    expect(validate({ ...repo, homepage: "not a url" })).toBe(false);
    // OpenAPI's `nullable: true` arrives as a type union: null is fine where GitHub sends it.
    expect(validate({ ...repo, description: null, license: null })).toBe(true);
    const tree = schema(fixture.routes["GET /repos/{owner}/{repo}/git/trees/{tree_sha}"]!.schema);
    expect(tree({ sha: "x", tree: [{ path: "a", mode: "100644", type: "blob" }], truncated: false })).toBe(
      false,
    );
  });

  it("sends the rate-limit headers on every response, and error bodies that validate", async () => {
    await start({ tokens: { t1: { limit: 1 } } });
    const replies = [
      await get("/repos/octo/demo", { token: "t1" }),
      await get("/repos/octo/demo", { token: "t1" }),
      await get("/repos/octo/demo", { token: "nope" }),
      await get("/rate_limit", { token: "t1" }),
    ];
    expect(replies.map((r) => r.status)).toEqual([200, 403, 401, 200]);
    for (const r of replies) expect(rate(r).resource).toBe("core");
    for (const r of replies.slice(1, 3)) expectValid({ schema: "basic-error" }, r.body);
  });
});

describe("conditional requests", () => {
  it("answers a matching If-None-Match with 304, free when authorised and counted when anonymous", async () => {
    await start({ tokens: { t1: { limit: 100 }, t2: { limit: 100 } } });
    const first = await get("/repos/octo/demo/branches/main", { token: "t1" });
    const etag = first.headers.get("etag")!;
    const again = await get("/repos/octo/demo/branches/main", {
      token: "t1",
      headers: { "if-none-match": etag },
    });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    expect(rate(again)).toMatchObject({ used: 1, remaining: 99 });
    expect(fake!.counted("t1")).toBe(1);

    // ETags differ by caller: t2's copy of t1's ETag does not match.
    const other = await get("/repos/octo/demo/branches/main", {
      token: "t2",
      headers: { "if-none-match": etag },
    });
    expect(other.status).toBe(200);
    expect(other.headers.get("etag")).not.toBe(etag);

    const anon = await get("/repos/octo/demo/branches/main");
    const anonAgain = await get("/repos/octo/demo/branches/main", {
      headers: { "if-none-match": anon.headers.get("etag")! },
    });
    expect(anonAgain.status).toBe(304);
    expect(fake!.counted(null)).toBe(2);
    expect(rate(anonAgain)).toMatchObject({ limit: 60, used: 2, remaining: 58 });
    expect(fake!.requests.map((r) => [r.token, r.status, r.counted])).toEqual([
      ["t1", 200, true],
      ["t1", 304, false],
      ["t2", 200, true],
      [null, 200, true],
      [null, 304, true],
    ]);

    // A new commit changes the branch: the old ETag no longer matches.
    ws.commit({ "src/more.ts": "more\n" }, "third");
    const moved = await get("/repos/octo/demo/branches/main", {
      token: "t1",
      headers: { "if-none-match": etag },
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ commit: { sha: ws.head() } });
  });

  it("gives trees, commits and compare ETags too", async () => {
    await start();
    for (const p of [
      `/repos/octo/demo/git/trees/${c2}?recursive=1`,
      `/repos/octo/demo/commits/${c2}`,
      `/repos/octo/demo/compare/${c1}...${c2}`,
    ]) {
      const r = await get(p, { token: "any" });
      const again = await get(p, { token: "any", headers: { "if-none-match": r.headers.get("etag")! } });
      expect([p, r.status, again.status]).toEqual([p, 200, 304]);
    }
    expect(fake!.counted("any")).toBe(3);
  });
});

describe("primary rate limit", () => {
  it("counts down with GitHub's headers and refuses at exhaustion with remaining 0", async () => {
    await start({ tokens: { t1: { limit: 3 } } });
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push(await get("/repos/octo/demo/branches/main", { token: "t1" }));
    expect(seen.map((r) => r.status)).toEqual([200, 200, 200, 403, 403]);
    expect(seen.map((r) => rate(r).remaining)).toEqual([2, 1, 0, 0, 0]);
    expect(seen.map((r) => rate(r).used)).toEqual([1, 2, 3, 3, 3]);
    expect(seen.every((r) => rate(r).limit === 3 && rate(r).resource === "core")).toBe(true);
    expect(seen[3]!.body.message).toMatch(/^API rate limit exceeded for /);
    expect(fake!.counted("t1")).toBe(3);
    expect(fake!.statusCounts()).toEqual({ 200: 3, 403: 2 });

    // /rate_limit costs nothing, even now, and tells the same story.
    const limits = await get("/rate_limit", { token: "t1" });
    expect(limits.status).toBe(200);
    expect(limits.body).toMatchObject({
      resources: { core: { limit: 3, remaining: 0, used: 3 } },
      rate: { remaining: 0 },
    });
    expect(fake!.counted("t1")).toBe(3);

    fake!.resetWindows();
    expect((await get("/repos/octo/demo/branches/main", { token: "t1" })).status).toBe(200);
  });

  it("refuses with 429 when asked to, and anonymous requests share one budget", async () => {
    await start({ anonymousLimit: 2, primaryLimitStatus: 429 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get("/repos/octo/demo")).status);
    expect(statuses).toEqual([200, 200, 429]);
    const refused = await get("/rate_limit");
    expect(refused.body).toMatchObject({ resources: { core: { limit: 2, remaining: 0 } } });
    // A token has a budget of its own (5000 when no tokens are configured).
    const withToken = await get("/repos/octo/demo", { token: "whatever", scheme: "token" });
    expect([withToken.status, rate(withToken).limit, rate(withToken).remaining]).toEqual([200, 5000, 4999]);
  });

  it("starts a window at the first counted request and reports its reset rounded up to whole seconds", async () => {
    await start({ tokens: { t1: { limit: 2 } }, windowSeconds: 2 });
    // /rate_limit costs nothing and starts no window: the window starts at the first counted request.
    await get("/rate_limit", { token: "t1" });
    await sleep(1100);
    const before = Date.now();
    const first = await get("/repos/octo/demo", { token: "t1" });
    const after = Date.now();
    const reset = rate(first).reset;
    expect(Number.isInteger(reset)).toBe(true);
    expect(reset).toBeGreaterThanOrEqual(Math.ceil((before + 2000) / 1000));
    expect(reset).toBeLessThanOrEqual(Math.ceil((after + 2000) / 1000));
    const second = await get("/repos/octo/demo", { token: "t1" });
    const third = await get("/repos/octo/demo", { token: "t1" });
    expect([second.status, third.status]).toEqual([200, 403]);
    expect([rate(second).reset, rate(third).reset]).toEqual([reset, reset]);

    // The window ends at the reset it announced; the next request starts a new one.
    for (let i = 0; i < 200 && Date.now() < reset * 1000 + 50; i++) await sleep(50);
    const fresh = await get("/repos/octo/demo", { token: "t1" });
    expect(fresh.status).toBe(200);
    expect(rate(fresh).used).toBe(1);
    expect(rate(fresh).reset).toBeGreaterThan(reset);
  });

  it("reports an hour's window from the first request, not from a clock-aligned hour", async () => {
    await start();
    const before = Date.now();
    const r = await get("/repos/octo/demo", { token: "t1" });
    const after = Date.now();
    expect(rate(r).reset).toBeGreaterThanOrEqual(Math.ceil((before + 3_600_000) / 1000));
    expect(rate(r).reset).toBeLessThanOrEqual(Math.ceil((after + 3_600_000) / 1000));
  });
});

describe("secondary rate limit", () => {
  it("refuses requests past the concurrency cap with GitHub's wording", async () => {
    await start({ secondaryMaxConcurrent: 2, latencyMs: 300 });
    const replies = await Promise.all(
      Array.from({ length: 4 }, () => get("/repos/octo/demo", { token: "t1" })),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 403, 403]);
    for (const r of replies.filter((x) => x.status === 403)) {
      expect(r.body.message).toMatch(new RegExp(`^${MESSAGE_SECONDARY}`));
      expect(r.headers.get("retry-after")).toBeNull();
    }
    expect(fake!.maxInFlight("t1")).toBe(4);
    expect(fake!.counted("t1")).toBe(2);
  });

  it("injects a secondary limit with and without retry-after", async () => {
    await start();
    fake!.inject({ status: 403, secondary: true, retryAfter: 7 });
    fake!.inject({ status: 429, secondary: true });
    const a = await get("/repos/octo/demo", { token: "t1" });
    const b = await get("/repos/octo/demo", { token: "t1" });
    const c = await get("/repos/octo/demo", { token: "t1" });
    expect([a.status, b.status, c.status]).toEqual([403, 429, 200]);
    expect(a.body.message).toMatch(new RegExp(`^${MESSAGE_SECONDARY}`));
    expect(b.body.message).toMatch(new RegExp(`^${MESSAGE_SECONDARY}`));
    expect(a.headers.get("retry-after")).toBe("7");
    expect(b.headers.get("retry-after")).toBeNull();
    expect(fake!.counted("t1")).toBe(1);
  });
});

describe("trees", () => {
  it("truncates recursive trees past treeTruncateAt, and a walk of subtrees still finds every file", async () => {
    await start({ treeTruncateAt: 3 });
    const root = ws.git("rev-parse", `${c2}^{tree}`);
    const full = await get(`/repos/octo/demo/git/trees/${root}?recursive=1`);
    expect(full.body.truncated).toBe(true);
    expect(full.body.tree).toHaveLength(3);

    const files: string[] = [];
    const queue: { sha: string; prefix: string }[] = [{ sha: root, prefix: "" }];
    for (let i = 0; i < queue.length && i < MAX_WALK; i++) {
      const { sha, prefix } = queue[i]!;
      const r = await get(`/repos/octo/demo/git/trees/${sha}`);
      expect(r.body.truncated).toBe(false);
      for (const e of r.body.tree as { path: string; type: string; sha: string }[]) {
        if (e.type === "tree") queue.push({ sha: e.sha, prefix: `${prefix}${e.path}/` });
        else files.push(`${prefix}${e.path}`);
      }
    }
    expect(files.sort()).toEqual(ws.git("ls-tree", "-r", "--name-only", c2).split("\n").sort());
  });
});

describe("compare", () => {
  it("lists at most compareFileLimit files, on the first page only, without saying so", async () => {
    await start({ compareFileLimit: 2 });
    const c3 = ws.commit(
      Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`many/f${i}.txt`, `${i}\n`])),
      "five files",
    );
    const c4 = ws.commit({ "many/f9.txt": "9\n" }, "one more");
    const one = await get(`/repos/octo/demo/compare/${c2}...${c4}`);
    expect(one.body).toMatchObject({ status: "ahead", ahead_by: 2, total_commits: 2 });
    expect(one.body.files).toHaveLength(2);
    expect((one.body.commits as { sha: string }[]).map((c) => c.sha)).toEqual([c3, c4]);

    const page1 = await get(`/repos/octo/demo/compare/${c2}...${c4}?page=1&per_page=1`);
    const page2 = await get(`/repos/octo/demo/compare/${c2}...${c4}?page=2&per_page=1`);
    expectValid("GET /repos/{owner}/{repo}/compare/{basehead}", page2.body);
    expect(page1.body.files).toHaveLength(2);
    expect(page2.body.files).toEqual([]);
    expect((page1.body.commits as { sha: string }[]).map((c) => c.sha)).toEqual([c3]);
    expect((page2.body.commits as { sha: string }[]).map((c) => c.sha)).toEqual([c4]);
    expect(page1.headers.get("link")).toMatch(/page=2&per_page=1>; rel="next"/);
    expect(page2.headers.get("link")).toBeNull();
  });

  it("reports diverged from the common ancestor after a force-push", async () => {
    await start();
    ws.git("reset", "-q", "--hard", c1);
    const c3 = ws.commit({ "src/a.ts": "rewritten\n" }, "rewritten history");
    const branch = await get("/repos/octo/demo/branches/main");
    expect(branch.body).toMatchObject({ commit: { sha: c3 } });

    const cmp = await get(`/repos/octo/demo/compare/${c2}...${c3}`);
    expectValid("GET /repos/{owner}/{repo}/compare/{basehead}", cmp.body);
    expect(cmp.body).toMatchObject({
      status: "diverged",
      ahead_by: 1,
      behind_by: 1,
      merge_base_commit: { sha: c1 },
    });
    // Files are counted from the merge base, not from the old head.
    expect(cmp.body.files).toEqual([expect.objectContaining({ filename: "src/a.ts", status: "modified" })]);

    const behind = await get(`/repos/octo/demo/compare/${c3}...${c1}`);
    expect(behind.body).toMatchObject({ status: "behind", ahead_by: 0, behind_by: 1 });
    const same = await get(`/repos/octo/demo/compare/main...${c3}`);
    expect(same.body).toMatchObject({ status: "identical", files: [] });
  });
});

describe("access", () => {
  it("answers an unknown token 401 Bad credentials, uncounted, and accepts Bearer and token schemes", async () => {
    await start({ tokens: { good: { limit: 10 } } });
    const bad = await get("/repos/octo/demo", { token: "bad" });
    expect(bad.status).toBe(401);
    expect(bad.body.message).toBe("Bad credentials");
    expect((await get("/repos/octo/demo", { token: "good" })).status).toBe(200);
    expect((await get("/repos/octo/demo", { token: "good", scheme: "token" })).status).toBe(200);
    expect(fake!.counted()).toBe(2);
    expect(fake!.counted("bad")).toBe(0);
  });

  it("serves under /api/v3 like GitHub Enterprise Server", async () => {
    const server = await start({ prefix: "/api/v3" });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    const repo = await get("/repos/octo/demo");
    expect(repo.status).toBe(200);
    expectValid("GET /repos/{owner}/{repo}", repo.body);
    expect(repo.body.url).toBe(`${server.url}/repos/octo/demo`);
    const outside = await fetch(`${server.url.replace(/\/api\/v3$/, "")}/repos/octo/demo`);
    expect(outside.status).toBe(404);
    expect(server.requests.map((r) => [r.path, r.status])).toEqual([
      ["/repos/octo/demo", 200],
      ["/repos/octo/demo", 404],
    ]);
    expect(server.counted()).toBe(1);
  });
});

describe("faults", () => {
  it("injects 5xx faults on matching requests, a given number of times, uncounted", async () => {
    await start();
    const blobSha = ws.git("rev-parse", `${c2}:README.md`);
    fake!.inject({ status: 502, times: 2, match: /\/git\/blobs\// });
    fake!.inject({ status: 503, retryAfter: 2, match: /\/branches\// });
    const repo = await get("/repos/octo/demo");
    const blobs = [];
    for (let i = 0; i < 3; i++) blobs.push(await get(`/repos/octo/demo/git/blobs/${blobSha}`));
    const branch = await get("/repos/octo/demo/branches/main");
    expect(repo.status).toBe(200);
    expect(blobs.map((r) => r.status)).toEqual([502, 502, 200]);
    expect(branch.status).toBe(503);
    expect(branch.headers.get("retry-after")).toBe("2");
    expect(Buffer.from(blobs[2]!.body.content as string, "base64").toString()).toBe("# demo\n");
    expect(fake!.statusCounts()).toEqual({ 200: 2, 502: 2, 503: 1 });
    expect(fake!.counted(null)).toBe(2);

    fake!.clearRequests();
    expect([fake!.requests.length, fake!.counted(), fake!.statusCounts()]).toEqual([0, 0, {}]);
  });
});
