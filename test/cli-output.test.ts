import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fitProgress } from "../src/cli/progress-renderer.js";
import type { Progress } from "../src/results.js";
import type { SyncResult } from "../src/service/types.js";
import { CLI, gitConfig, runCli, Workspace } from "./helpers/workspace.js";

/** Runs the CLI on a pseudo-terminal `columns` wide (util-linux `script`); returns everything it wrote. */
function runOnTerminal(
  args: string,
  columns: number,
  cwd: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "script",
      ["-qec", `stty cols ${columns} rows 40; "${process.execPath}" "${CLI}" ${args}`, "/dev/null"],
      { cwd, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

/**
 * The bar's redraws: what follows each "erase line" sequence and is not ended by a newline (a plain line
 * printed after the bar is erased ends with one; a redraw is followed by the next erase).
 */
const barDraws = (out: string): string[] =>
  out
    .split("\r\x1b[2K")
    .slice(1)
    .filter((s) => !s.includes("\n"))
    .map((s) => s.replace(/\r$/, ""));

describe("cli output", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("14.13 the TTY progress bar fits a 60- and an 80-column terminal without wrapping", async () => {
    expect(execFileSync("script", ["--version"], { encoding: "utf8" })).toMatch(/util-linux/);
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`docs/chapter-${i}.md`] = `chapter ${i}`;
    ws.commit(files);
    // a long job and phase name make the full bar line far wider than either terminal
    ws.write(
      "syncwarden.yaml",
      gitConfig()
        .replace("  code:", "  documentation-index:")
        .replace("name: files", "name: markdown-chapters"),
    );
    for (const columns of [60, 80]) {
      const r = await runOnTerminal(`run${columns === 80 ? " --force" : ""}`, columns, ws.dir);
      expect(r.code, r.out).toBe(0);
      const draws = barDraws(r.out);
      expect(draws.length, r.out).toBeGreaterThan(0);
      for (const d of draws) {
        expect(d.length, d).toBeLessThan(columns);
        expect(d).toMatch(/40\/40 \(100\.0%\)/);
      }
    }
  });

  it("14.13 the bar's line never reaches the terminal's width, whatever the counts and names", () => {
    const p: Progress = {
      job: "a-rather-long-job-name",
      phase: "and-a-long-phase-name-too",
      total: 1_234_567,
      completed: 1_000_000,
      skipped: 12_345,
      failed: 3,
      dead: 2,
      pending: 222_217,
      processing: 0,
      percent: 82,
      itemsPerSecond: 12_345,
      etaSeconds: 7_200,
    };
    for (const columns of [20, 40, 60, 80, 100, 139, 140, 200]) {
      const line = fitProgress(p, columns);
      expect(line.length, `${columns}: ${line}`).toBeLessThan(columns);
    }
    expect(fitProgress(p, 200)).toContain("completed=1000000"); // a wide terminal shows everything
    expect(fitProgress(p, 80)).toContain("1012347/1234567 (82.0%)");
  });

  it("14.13 status says when the last run finished, not when it started", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "a" });
    ws.write("syncwarden.yaml", gitConfig());
    expect((await runCli(["run"], { cwd: ws.dir })).code).toBe(0);
    const [run] = JSON.parse((await runCli(["history", "--json"], { cwd: ws.dir })).stdout) as {
      startedAt: string;
      finishedAt: string;
    }[];
    expect(run!.finishedAt).not.toBe(run!.startedAt);
    const status = await runCli(["status"], { cwd: ws.dir });
    expect(status.stdout).toContain(`code: last run completed at ${run!.finishedAt};`);
  });

  it("14.13 history and the run's summary show no 'full' degradation for a failed run", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "a" });
    ws.git("branch", "stable");
    ws.write("syncwarden.yaml", gitConfig({ sourceExtra: "branch: stable" }));
    expect((await runCli(["run"], { cwd: ws.dir })).code).toBe(0);
    ws.git("branch", "-D", "stable");
    const failed = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(failed.code).toBe(78);
    expect((JSON.parse(failed.stdout) as SyncResult).status).toBe("failed");
    expect(failed.stderr).toMatch(/code: failed in /);
    expect(failed.stderr).not.toMatch(/code: failed in .*degradation: full/);
    const lines = (await runCli(["history"], { cwd: ws.dir })).stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/ code cli failed /);
    expect(lines[0]).not.toMatch(/\bfull\b/);
    expect(lines[1]).toMatch(/ code cli completed \S+s full /); // a completed run still shows its own
  });

  it("14.13 an unknown job name exits 2 with the configured jobs, for every command, and creates no state", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "a" });
    ws.write(
      "syncwarden.yaml",
      gitConfig() + "  docs:\n    phases:\n      - name: f\n        source: { type: git, repo: ./repo }\n",
    );
    const commands = [
      ["search", "otters", "--job", "nope"],
      ["run", "nope"],
      ["run", "code", "nope"],
      ["status", "nope"],
      ["history", "nope"],
      ["failed", "nope"],
      ["events", "nope"],
      ["retry", "nope"],
    ];
    for (const args of commands) {
      const r = await runCli(args, { cwd: ws.dir });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(`unknown job "nope"; ${ws.configFile} defines: code, docs`);
      expect(existsSync(path.join(ws.dir, ".syncwarden")), args.join(" ")).toBe(false);
    }
    const phase = await runCli(["run", "code", "--phase", "nope"], { cwd: ws.dir });
    expect(phase.code, phase.stderr).toBe(2);
    expect(phase.stderr).toContain('job "code" has no phase nope; its phases: files');
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);
  });

  it("14.13 a glob that matches nothing is a warning in run --json and on stderr", async () => {
    ws = new Workspace();
    ws.commit({ "src/main.ts": "export {}", "README.md": "# x" });
    ws.write(
      "syncwarden.yaml",
      gitConfig({ sourceExtra: 'include: ["src/**", "docs/**/*.md"], exclude: ["**/*.png"]' }),
    );
    const r = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as SyncResult;
    expect(result.phases[0]).toMatchObject({ total: 1, completed: 1 });
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^code\/files: include pattern "docs\/\*\*\/\*\.md" matches no file at [0-9a-f]{12} /,
      ),
      expect.stringMatching(
        /^code\/files: exclude pattern "\*\*\/\*\.png" matches none of the included files /,
      ),
    ]);
    expect(r.stderr).toContain('warning: code/files: include pattern "docs/**/*.md" matches no file');
    expect(r.stderr).toContain('warning: code/files: exclude pattern "**/*.png" matches none');
  });
});
