import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeGitHub, type FakeGitHub, type FakeGitHubOptions } from "../src/testing/fake-github.js";
import { runCli, Workspace, type CliResult } from "./helpers/workspace.js";

// The github source against a loopback fake of GitHub's REST API serving a real git repository:
// what is indexed, what each run costs in counted requests, and what a user sees.

const TOKEN = "ghp_test_token_that_must_never_be_printed";
let ws: Workspace;
let fake: FakeGitHub | undefined;

beforeEach(() => {
  ws = new Workspace();
});
afterEach(async () => {
  await fake?.close();
  fake = undefined;
  ws.cleanup();
});

async function serve(opts: Partial<FakeGitHubOptions> = {}): Promise<FakeGitHub> {
  fake = await startFakeGitHub({ repos: { "octo/demo": { dir: ws.repo } }, ...opts });
  return fake;
}

function config(extra = "", sync: Record<string, unknown> = {}): void {
  ws.write(
    "syncwarden.yaml",
    `sync: ${JSON.stringify({ max_retries: 2, retry_wait_seconds: 0, rate_limit_wait_seconds: 1, ...sync })}
jobs:
  code:
    phases:
      - name: files
        source: { type: github, repo: octo/demo, base_url: "${fake!.url}", points_per_minute: 100000${extra} }
        sink: { type: sqlite-docs, table: code }
`,
  );
}

const run = (args: string[] = [], env: Record<string, string> = { GH_TOKEN: TOKEN }): Promise<CliResult> =>
  runCli(["run", "code", "--json", ...args], { cwd: ws.dir, env });

function resultOf(r: CliResult): {
  status: string;
  phases: {
    total: number;
    completed: number;
    skipped: number;
    rateLimitedUntil?: string;
    checkpoint: string;
  }[];
  warnings: string[];
} {
  expect(r.stderr).not.toContain(TOKEN);
  expect(r.stdout).not.toContain(TOKEN);
  return JSON.parse(r.stdout) as ReturnType<typeof resultOf>;
}

/** path → content of every file of the repository at HEAD (what the store should hold). */
function repoFiles(): Map<string, string> {
  const files = ws.git("ls-files").split("\n").filter(Boolean);
  return new Map(files.map((f) => [f, readFileSync(path.join(ws.repo, f), "utf8")]));
}

/** Each document key the store holds, with how many rows hold it (exactly once each). */
function documentCounts(): Map<string, number> {
  const db = ws.db();
  try {
    const rows = db
      .prepare<[], { key: string; n: number }>("SELECT key, count(*) AS n FROM documents GROUP BY key")
      .all();
    return new Map(rows.map((r) => [r.key, r.n]));
  } finally {
    db.close();
  }
}

function tree(n: number, prefix = "src"): Record<string, string> {
  return Object.fromEntries(
    Array.from({ length: n }, (_, i) => [`${prefix}/d${i % 7}/f${i}.txt`, `file ${i}\n`]),
  );
}

describe("github source", () => {
  it("indexes every file once, then add / modify / delete / rename through compare, and a no-change run costs at most 1 counted request", async () => {
    ws.commit({ ...tree(40), "README.md": "# demo\n", "old/name.md": "renamed later\n" }, "first");
    await serve();
    config(', token: "${GH_TOKEN}"');

    const first = resultOf(await run());
    expect(first.status).toBe("completed");
    expect(first.phases[0]!.checkpoint).toBe(ws.head());
    expect(ws.documents("code")).toEqual(repoFiles());
    expect([...documentCounts().values()].every((n) => n === 1)).toBe(true);
    // repository, branch, tree, then one blob per file
    expect(fake!.counted(TOKEN)).toBeLessThanOrEqual(42 + 3);

    fake!.clearRequests();
    const again = resultOf(await run());
    expect(again.status).toBe("completed");
    expect(fake!.counted(TOKEN)).toBeLessThanOrEqual(1);
    expect(fake!.statusCounts()[304]).toBeGreaterThanOrEqual(1);

    const head = ws.commit(
      {
        "old/name.md": null,
        "new/name.md": "renamed later\n",
        "src/d0/f0.txt": "changed\n",
        "src/d1/f1.txt": null,
        "added/one.txt": "new file\n",
      },
      "second",
    );
    fake!.clearRequests();
    const incremental = resultOf(await run());
    expect(incremental.phases[0]!.checkpoint).toBe(head);
    expect(fake!.requests.some((r) => r.path.includes("/compare/"))).toBe(true);
    expect(fake!.requests.some((r) => r.path.includes("/git/trees/"))).toBe(false);
    // branch (and repository), compare, and a blob per added, modified or renamed file
    expect(fake!.counted(TOKEN)).toBeLessThanOrEqual(3 + 3);
    expect(ws.documents("code")).toEqual(repoFiles());
    expect(documentCounts().get("old/name.md")).toBeUndefined();
  });

  it("a force-push, and a change of more files than compare lists, are diffed tree against tree", async () => {
    ws.commit({ ...tree(320), "other/x.txt": "x\n", "other/deep/y.txt": "y\n" }, "first");
    await serve();
    config(', token: "${GH_TOKEN}"');
    resultOf(await run());

    // 310 files changed: compare lists only 300 of them, without saying so
    const changed = Object.fromEntries(
      Array.from({ length: 310 }, (_, i) => [`src/d${i % 7}/f${i}.txt`, "v2\n"]),
    );
    ws.commit(changed, "many");
    fake!.clearRequests();
    const big = resultOf(await run());
    expect(big.phases[0]!.checkpoint).toBe(ws.head());
    expect(ws.documents("code")).toEqual(repoFiles());
    // only the root and the changed directories are listed (old and new), never the whole tree again
    const listings = fake!.requests.filter((r) => r.path.includes("/git/trees/"));
    expect(listings.some((r) => r.path.includes("recursive"))).toBe(false);
    expect(listings.length).toBe(2 * (1 + 1 + 7)); // the root, src/ and its 7 directories; not other/

    // rewrite history: the old checkpoint is no ancestor of the new head
    ws.git("reset", "-q", "--hard", "HEAD~1");
    const rewritten = ws.commit({ "src/d3/f3.txt": "rewritten\n", "src/d4/f4.txt": null }, "rewritten");
    const forced = resultOf(await run());
    expect(forced.status).toBe("completed");
    expect(forced.phases[0]!.checkpoint).toBe(rewritten);
    expect(ws.documents("code")).toEqual(repoFiles());
  });

  it("a job switched from the git source to the github source redoes nothing unchanged (version = blob sha)", async () => {
    ws.commit(tree(20), "first");
    await serve();
    ws.write(
      "syncwarden.yaml",
      `jobs:\n  code:\n    phases:\n      - name: files\n        source: { type: git, repo: ./repo }\n        sink: { type: sqlite-docs, table: code }\n`,
    );
    expect((await run()).code).toBe(0);
    ws.commit({ "src/d0/f0.txt": "changed\n" }, "second");
    config(', token: "${GH_TOKEN}"');
    fake!.clearRequests();
    // the git source's checkpoint is the same commit on GitHub: only what changed since is fetched
    const r = resultOf(await run());
    expect(r.phases[0]).toMatchObject({ total: 1, completed: 1, checkpoint: ws.head() });
    expect(fake!.requests.filter((x) => x.path.includes("/git/blobs/")).length).toBe(1);
    expect(ws.documents("code")).toEqual(repoFiles());
  });

  it("waits out secondary limits (with and without retry-after) and retries 5xx, losing no file and no attempt", async () => {
    ws.commit(tree(30), "first");
    await serve();
    config(', token: "${GH_TOKEN}"', { max_retries: 0 });
    fake!.inject({ status: 403, secondary: true, retryAfter: 1, times: 2, match: /git\/blobs/ });
    fake!.inject({ status: 429, secondary: true, times: 1, match: /git\/blobs/ });
    fake!.inject({ status: 502, times: 2, match: /git\/blobs/ });
    const r = resultOf(await run());
    expect(r.status).toBe("completed");
    expect(r.phases[0]).toMatchObject({ completed: 30, checkpoint: ws.head() });
    expect(ws.documents("code")).toEqual(repoFiles());
    expect(fake!.statusCounts()).toMatchObject({ 403: 2, 429: 1, 502: 2 });
  });

  it("walks subtrees when GitHub truncates the recursive tree, so no file is missed", async () => {
    ws.commit({ ...tree(60, "a"), ...tree(25, "b/c"), "top.txt": "top\n" }, "first");
    await serve({ treeTruncateAt: 20 });
    config(', token: "${GH_TOKEN}"');
    const r = resultOf(await run());
    expect(r.phases[0]!.completed).toBe(86);
    expect(ws.documents("code")).toEqual(repoFiles());
    expect([...documentCounts().values()].every((n) => n === 1)).toBe(true);
  });

  it("skips binary and oversized files with counted reasons, and honours include / exclude", async () => {
    ws.commit(
      {
        "keep.md": "kept\n",
        "big.md": "x".repeat(5000),
        "logo.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 1]),
        "vendor/lib.md": "excluded\n",
      },
      "first",
    );
    await serve();
    config(', token: "${GH_TOKEN}", max_file_bytes: 1000, exclude: ["vendor/**"]');
    const r = JSON.parse((await run()).stdout) as { phases: { skippedReasons: Record<string, number> }[] };
    expect(r.phases[0]!.skippedReasons).toEqual({ oversized: 1, binary: 1 });
    expect([...ws.documents("code").keys()]).toEqual(["keep.md"]);
  });

  it("works anonymously and against a GitHub Enterprise Server's /api/v3", async () => {
    ws.commit(tree(5), "first");
    await serve({ prefix: "/api/v3", anonymousLimit: 60 });
    expect(fake!.url).toMatch(/\/api\/v3$/);
    config();
    const r = resultOf(await run([], {}));
    expect(r.status).toBe("completed");
    expect(ws.documents("code")).toEqual(repoFiles());
    expect(fake!.counted(null)).toBe(5 + 3);
    expect(fake!.requests.every((x) => x.token === null)).toBe(true);
  });

  it("a refused token exits 78, and the token appears in no output and nowhere in the state folder", async () => {
    ws.commit(tree(3), "first");
    await serve({ tokens: { "the-right-one": { limit: 100 } } });
    config(', token: "${GH_TOKEN}"');
    const r = await run();
    expect(r.code).toBe(78);
    const out = r.stdout + r.stderr;
    expect(out).toContain("refused the credentials");
    expect(out).toContain("jobs.code.phases.files.source.token");
    expect(out).not.toContain(TOKEN);
    const limits = await runCli(["github", "limits"], { cwd: ws.dir, env: { GH_TOKEN: TOKEN } });
    expect(limits.code).toBe(78);
    expect(limits.stdout + limits.stderr).not.toContain(TOKEN);
    const state = path.join(ws.dir, ".syncwarden");
    for (const f of readdirSync(state)) expect(readFileSync(path.join(state, f)).includes(TOKEN)).toBe(false);
  });

  it("pause_on_rate_limit: false stops at the limit as partial (exit 3) with the reset time; the next run finishes the plan", async () => {
    ws.commit(tree(30), "first");
    await serve({ tokens: { [TOKEN]: { limit: 12 } }, windowSeconds: 5 });
    config(', token: "${GH_TOKEN}"', { pause_on_rate_limit: false });
    const r = await run();
    expect(r.code).toBe(3);
    const result = resultOf(r);
    expect(result.status).toBe("partial");
    const until = Date.parse(result.phases[0]!.rateLimitedUntil!);
    expect(until).toBeGreaterThan(Date.now() - 5000);
    expect(result.warnings.join("\n")).toContain("resets at");
    expect(ws.checkpoint("code", "files")).toBeNull();

    // later runs pick up the plan where it stopped; the checkpoint moves only when every file is in
    let last: ReturnType<typeof resultOf> | undefined;
    for (let i = 0; i < 15 && last?.status !== "completed"; i++) {
      const wait = Math.max(0, Date.parse(last?.phases[0]?.rateLimitedUntil ?? "") - Date.now());
      await new Promise((res) => setTimeout(res, Math.min(Number.isNaN(wait) ? 0 : wait, 6000) + 200));
      last = resultOf(await run());
      // the checkpoint never passes unfinished work (a run may finish the plan, then meet the limit again
      // while looking for newer commits: partial, with the checkpoint moved)
      if (ws.checkpoint("code", "files") !== null) expect(ws.documents("code")).toEqual(repoFiles());
    }
    expect(last!.status).toBe("completed");
    expect(ws.checkpoint("code", "files")).toBe(ws.head());
    expect(ws.documents("code")).toEqual(repoFiles());
    // the gate closed before the budget ran out: no request was refused
    expect(fake!.statusCounts()[403] ?? 0).toBe(0);
  });

  it("github limits shows each token's limit from /rate_limit, which costs nothing", async () => {
    ws.commit(tree(3), "first");
    await serve({ tokens: { [TOKEN]: { limit: 50 } } });
    config(', token: "${GH_TOKEN}"');
    await run();
    const used = fake!.counted(TOKEN);
    const r = await runCli(["github", "limits", "--json"], { cwd: ws.dir, env: { GH_TOKEN: TOKEN } });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain(TOKEN);
    const [limit] = JSON.parse(r.stdout) as {
      provider: string;
      limit: number;
      remaining: number;
      jobs: string[];
    }[];
    expect(limit).toMatchObject({ limit: 50, remaining: 50 - used, jobs: ["code/files"] });
    expect(limit!.provider).toMatch(/^github:127\.0\.0\.1:\d+:token-[0-9a-f]{12}$/);
    expect(fake!.counted(TOKEN)).toBe(used);
    // the token's provider is one of `breakers`, and can be reset by its name
    const breakers = await runCli(["breakers", "--json"], { cwd: ws.dir, env: { GH_TOKEN: TOKEN } });
    expect((JSON.parse(breakers.stdout) as { provider: string }[]).map((b) => b.provider)).toContain(
      limit!.provider,
    );
    const reset = await runCli(["breakers", "reset", limit!.provider], {
      cwd: ws.dir,
      env: { GH_TOKEN: TOKEN },
    });
    expect(reset.code).toBe(0);
  });

  it("the code indexer's sync_config.yaml runs unchanged", async () => {
    ws.commit({
      "pkg/main.go": "package main\n",
      "app.py": "print(1)\n",
      "node_modules/x.py": "no\n",
      "README.md": "r\n",
    });
    fake = await startFakeGitHub({ repos: { "datazip-inc/olake": { dir: ws.repo } } });
    ws.write(
      "sync_config.yaml",
      `sync:
  max_retries: 3
  retry_wait_seconds: 60
  rate_limit_wait_seconds: 60
  max_workers: 4
  pause_on_rate_limit: true
codebases:
  - name: olake
    repo_url: https://github.com/datazip-inc/olake
    branch: main
processing:
  exclude_patterns: ["node_modules/", "*.min.js"]
  supported_languages: [python, go]
`,
    );
    const r = await runCli(["-c", "sync_config.yaml", "run", "olake", "--json"], {
      cwd: ws.dir,
      env: { GITHUB_API_URL: fake.url, GITHUB_TOKEN: TOKEN },
    });
    expect(r.code).toBe(0);
    expect(resultOf(r).status).toBe("completed");
    expect([...ws.documents("olake").keys()].sort()).toEqual(["app.py", "pkg/main.go"]);
    expect(fake.requests.every((x) => x.token === TOKEN)).toBe(true);
  });
});
