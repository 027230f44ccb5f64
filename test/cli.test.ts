import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SyncResult } from "../src/service/types.js";
import { CLI, gitConfig, runCli, Workspace } from "./helpers/workspace.js";

const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");
const SOURCE = path.resolve(import.meta.dirname, "fixtures/json-source.mjs");

/** What `run --json` prints: the library's own SyncResult. */
type ResultJson = SyncResult;

describe("cli", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("a reader that goes away (| head) neither crashes the command nor stops the run", async () => {
    ws = new Workspace();
    ws.commit({ "README.md": "# Otters\nRiver otters hold hands while sleeping." });
    ws.write("syncwarden.yaml", gitConfig());
    expect((await runCli(["run"], { cwd: ws.dir })).code).toBe(0);
    const head = ws.commit({ "more.md": "Sea otters use rocks as tools." });
    /** The command's exit code and stderr, its stdout piped into `true` (which exits at once). */
    const piped = (args: string): Promise<{ code: string; stderr: string }> =>
      new Promise((resolve, reject) => {
        const child = spawn(
          "bash",
          ["-c", `"${process.execPath}" "${CLI}" ${args} | true; echo \${PIPESTATUS[0]} >&3`],
          {
            cwd: ws.dir,
            stdio: ["ignore", "ignore", "pipe", "pipe"],
          },
        );
        let stderr = "";
        let code = "";
        child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
        child.stdio[3]!.on("data", (b: Buffer) => (code += b.toString()));
        child.on("error", reject);
        child.on("close", () => resolve({ code: code.trim(), stderr }));
      });
    const run = await piped("run --json");
    expect(run.code, run.stderr).toBe("0");
    expect(run.stderr).not.toContain("EPIPE");
    expect(ws.checkpoint("code", "files")).toBe(head); // the run went on to the end
    const search = await piped("search otters");
    expect(search).toEqual({ code: "0", stderr: "" });
  });

  it("indexes, searches and reports status; stdout carries only data", async () => {
    ws = new Workspace();
    const head = ws.commit({
      "README.md": "# Otters\nRiver otters hold hands while sleeping.",
      "src/main.ts": "export const habitat = 'kelp forest';",
      "logo.png": Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01]),
      "big.txt": "x".repeat(5000),
      "notes.txt": "excluded by the include glob",
    });
    ws.write(
      "syncwarden.yaml",
      gitConfig({
        sourceExtra: 'include: ["**/*.md", "**/*.ts", "**/*.png", "big.txt"], max_file_bytes: 4096',
      }),
    );
    const run = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as ResultJson;
    expect(result.status).toBe("completed");
    expect(result.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(result.phases[0]).toMatchObject({
      total: 4,
      completed: 2,
      skipped: 2,
      checkpoint: head,
      skippedReasons: { binary: 1, oversized: 1 },
    });
    expect([...ws.documents("code").keys()].sort()).toEqual(["README.md", "src/main.ts"]);
    expect(run.stderr).toContain("completed");

    const search = await runCli(["search", "otters", "sleeping", "--json"], { cwd: ws.dir });
    const hits = JSON.parse(search.stdout) as { key: string; snippet: string }[];
    expect(hits.map((h) => h.key)).toEqual(["README.md"]);
    expect(hits[0]!.snippet).toContain("[otters]");
    const plain = await runCli(["search", "kelp"], { cwd: ws.dir });
    expect(plain.stdout).toContain("src/main.ts");
    // queries with punctuation are words, not FTS syntax errors
    expect((await runCli(["search", "kelp-forest", "AND", "(", "--json"], { cwd: ws.dir })).code).toBe(0);

    const status = await runCli(["status", "--json"], { cwd: ws.dir });
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as {
      jobs: {
        job: string;
        lastSuccess: string | null;
        documents: number;
        lastRun: { status: string };
        phases: { checkpoint: string; items: Record<string, number>; documents: number }[];
      }[];
    };
    expect(s.jobs[0]).toMatchObject({ job: "code", documents: 2, lastRun: { status: "completed" } });
    expect(s.jobs[0]!.lastSuccess).not.toBeNull();
    expect(s.jobs[0]!.phases[0]).toMatchObject({
      checkpoint: head,
      documents: 2,
      items: { COMPLETED: 2, SKIPPED: 2, FAILED: 0, DEAD: 0, PENDING: 0 },
    });
  });

  it("--force reprocesses every item; unchanged items are skipped otherwise", async () => {
    ws = new Workspace();
    const items = [
      { key: "p1", version: "v1", content: "first product" },
      { key: "p2", version: "v1", content: "second product" },
      { key: "p3", version: "v1", content: "third product" },
    ];
    ws.write("items.json", JSON.stringify(items));
    ws.write(
      "syncwarden.yaml",
      `jobs:\n  catalog:\n    phases:\n      - name: products\n        source: { type: module, module: ${JSON.stringify(SOURCE)}, file: items.json }\n        sink: { type: sqlite-docs }\n`,
    );
    const first = JSON.parse((await runCli(["run", "--json"], { cwd: ws.dir })).stdout) as ResultJson;
    expect(first.phases[0]).toMatchObject({ total: 3, completed: 3, skipped: 0 });

    items[1] = { key: "p2", version: "v2", content: "second product, revised" };
    ws.write("items.json", JSON.stringify(items));
    const second = JSON.parse((await runCli(["run", "--json"], { cwd: ws.dir })).stdout) as ResultJson;
    expect(second.phases[0]).toMatchObject({
      total: 3,
      completed: 1,
      skipped: 2,
      skippedReasons: { unchanged: 2 },
    });
    expect(ws.documents("catalog").get("p2")).toBe("second product, revised");

    const forced = JSON.parse(
      (await runCli(["run", "--force", "--json"], { cwd: ws.dir })).stdout,
    ) as ResultJson;
    expect(forced.phases[0]).toMatchObject({ total: 3, completed: 3, skipped: 0 });

    // an item gone from a full listing leaves the store
    ws.write("items.json", JSON.stringify(items.slice(0, 2)));
    const fourth = JSON.parse((await runCli(["run", "--json"], { cwd: ws.dir })).stdout) as ResultJson;
    expect(fourth.phases[0]).toMatchObject({ total: 3, completed: 1, skipped: 2 });
    expect([...ws.documents("catalog").keys()].sort()).toEqual(["p1", "p2"]);
  });

  it("rejects bad configuration with file, line and key path, exit 78, and touches no state", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "a" });
    const cases: [string, RegExp][] = [
      [
        "jobs:\n  code:\n    phases:\n      - name: files\n        source: { type: git, repo: ./repo }\n        sink: { type: sqlite-docs }\nsync:\n  max_workers: four\n",
        /syncwarden\.yaml:8:\d+: sync\.max_workers: .*number/,
      ],
      [
        'jobs:\n  code:\n    phases:\n      - name: files\n        source: { type: git, repo: ./repo, inclde: ["*.md"] }\n',
        /syncwarden\.yaml:5:\d+: jobs\.code\.phases\[0\]\.source: unknown key "inclde"/,
      ],
      [
        "jobs:\n  code:\n    phases:\n      - name: files\n        source: { type: svn }\n",
        /syncwarden\.yaml:5:\d+: jobs\.code\.phases\[0\]\.source\.type/,
      ],
      ["jobs:\n  code:\n    phases: [\n", /syncwarden\.yaml:\d+:\d+: invalid YAML/],
      ["jobs: {}\n", /syncwarden\.yaml:1:\d+: jobs: define at least one job/],
    ];
    for (const [yaml, expected] of cases) {
      writeFileSync(ws.configFile, yaml);
      const r = await runCli(["run"], { cwd: ws.dir });
      expect(r.code, r.stderr).toBe(78);
      expect(r.stderr).toMatch(expected);
      expect(r.stdout).toBe("");
      expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);
    }

    ws.write("syncwarden.yaml", gitConfig());
    const env = await runCli(["run"], { cwd: ws.dir, env: { SYNC_MAX_WORKERS: "lots" } });
    expect(env.code).toBe(78);
    expect(env.stderr).toContain("SYNC_MAX_WORKERS");
    const envRange = await runCli(["run"], { cwd: ws.dir, env: { SYNC_MAX_WORKERS: "0" } });
    expect(envRange.code).toBe(78);
    expect(envRange.stderr).toMatch(/environment variable SYNC_MAX_WORKERS \(sync\.max_workers\)/);
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);

    const missing = await runCli(["run", "-c", "nope.yaml"], { cwd: ws.dir });
    expect(missing.code).toBe(78);
    expect(missing.stderr).toContain("nope.yaml");
    const noModule = gitConfig({ sink: "{ type: module, module: ./missing-sink.mjs }" });
    ws.write("syncwarden.yaml", noModule);
    const badModule = await runCli(["run"], { cwd: ws.dir });
    expect(badModule.code).toBe(78);
    expect(badModule.stderr).toMatch(/jobs\.code\.phases\.files\.sink\.module: no such file/);
  });

  it("exit codes: usage errors are 2, help is 0", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "a" });
    ws.write("syncwarden.yaml", gitConfig());
    expect((await runCli(["run", "no-such-job"], { cwd: ws.dir })).code).toBe(2);
    expect((await runCli(["frobnicate"], { cwd: ws.dir })).code).toBe(2);
    expect((await runCli(["run", "--no-such-flag"], { cwd: ws.dir })).code).toBe(2);
    expect((await runCli(["search", "x", "--limit", "zero"], { cwd: ws.dir })).code).toBe(2);
    const help = await runCli(["--help"], { cwd: ws.dir });
    expect(help.code).toBe(0);
    for (const word of [
      "run",
      "status",
      "failed",
      "retry",
      "search",
      "SYNC_MAX_WORKERS",
      "syncwarden.yaml",
      "78",
    ]) {
      expect(help.stdout).toContain(word);
    }
  });

  it("SIGINT stops claiming, settles in-flight items, exits 130 and leaves the ledger resumable", async () => {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`f${i}.md`] = `content ${i}`;
    const head = ws.commit(files);
    ws.write(
      "syncwarden.yaml",
      gitConfig({ sink: `{ type: module, module: ${JSON.stringify(SINK)}, delay_ms: 20, log: calls.log }` }),
    );
    const child = spawn(process.execPath, [CLI, "run", "--json"], {
      cwd: ws.dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (existsSync(path.join(ws.dir, "calls.log"))) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(code, stderr).toBe(130);
    const partial = JSON.parse(stdout) as ResultJson;
    expect(partial.status).toBe("cancelled");
    const db = ws.db();
    const rows = db
      .prepare<[], { status: string; n: number }>("SELECT status, COUNT(*) AS n FROM items GROUP BY status")
      .all();
    db.close();
    const counts = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    // nothing is left leased: in-flight items settled, claimed-but-unstarted ones are pending again
    expect(counts.PROCESSING).toBeUndefined();
    expect(counts.COMPLETED).toBeGreaterThan(0);
    expect(counts.PENDING).toBeGreaterThan(0);
    expect(ws.checkpoint("code", "files")).toBeNull();

    const resumed = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(resumed.code).toBe(0);
    expect(ws.checkpoint("code", "files")).toBe(head);
    expect(ws.documents("code").size).toBe(300);
  });
});
