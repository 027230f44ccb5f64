import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { SyncResult } from "../src/service/types.js";
import { gitConfig, runCli, Workspace } from "./helpers/workspace.js";

interface DoctorJson {
  checks: { name: string; status: string; message: string; details: Record<string, unknown> }[];
}

describe("source errors", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("14.7 a git source whose repository folder is missing exits 78 naming file:line and the path, and creates no state", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "a" });
    // line 6 holds the source, and its repo key
    ws.write("syncwarden.yaml", gitConfig().replace("repo: ./repo", "repo: ./no-such-repo"));
    const r = await runCli(["run"], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(/syncwarden\.yaml:6:\d+: jobs\.code\.phases\[0\]\.source\.repo: /);
    expect(r.stderr).toContain(path.join(ws.dir, "no-such-repo"));
    expect(r.stderr).toContain("does not exist");
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);

    // a folder that exists but holds no repository: the same, with what is wrong
    ws.write("plain/readme.txt", "not a repository");
    ws.write("syncwarden.yaml", gitConfig().replace("repo: ./repo", "repo: ./plain"));
    // git looks no higher than the workspace for a repository
    const plain = await runCli(["run"], { cwd: ws.dir, env: { GIT_CEILING_DIRECTORIES: ws.dir } });
    expect(plain.code, plain.stderr).toBe(78);
    expect(plain.stderr).toMatch(/syncwarden\.yaml:6:\d+: .*is not a git repository/);
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);
  });

  it("14.7 a git source whose branch is missing exits 78 naming file:line and the branch, and creates no state", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "a" });
    ws.write(
      "syncwarden.yaml",
      `jobs:
  code:
    phases:
      - name: files
        source:
          type: git
          repo: ./repo
          branch: release-9
`,
    );
    const r = await runCli(["run", "code"], { cwd: ws.dir });
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toMatch(
      /syncwarden\.yaml:8:\d+: jobs\.code\.phases\[0\]\.source\.branch: branch "release-9" does not exist/,
    );
    expect(r.stdout).toBe("");
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);
  });

  it("14.7 a source that breaks after the first run is a failed run that doctor reports with its error", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "a" });
    ws.git("branch", "stable");
    ws.write("syncwarden.yaml", gitConfig({ sourceExtra: "branch: stable" }));
    const first = await runCli(["run"], { cwd: ws.dir });
    expect(first.code, first.stderr).toBe(0);
    const healthy = await runCli(["doctor", "--json"], { cwd: ws.dir });
    const before = (JSON.parse(healthy.stdout) as DoctorJson).checks.find((c) => c.name === "failed-runs");
    expect(before?.status).toBe("ok");

    // the branch is deleted: the run fails, is recorded, and says where the branch is configured
    ws.git("branch", "-D", "stable");
    const second = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(second.code, second.stderr).toBe(78);
    const result = JSON.parse(second.stdout) as SyncResult;
    expect(result.status).toBe("failed");
    expect(result.error?.errorClass).toBe("config");
    expect(result.error?.message).toMatch(/syncwarden\.yaml:6:\d+: .*branch "stable" does not exist/);
    const history = await runCli(["history", "--json"], { cwd: ws.dir });
    expect((JSON.parse(history.stdout) as { status: string }[]).map((h) => h.status)).toEqual([
      "failed",
      "completed",
    ]);

    const doctor = await runCli(["doctor"], { cwd: ws.dir });
    expect(doctor.code, doctor.stdout).toBe(1);
    expect(doctor.stdout).toMatch(
      /WARNING +failed-runs: code: last run failed at \S+: \(config\) .*"stable"/,
    );

    // the repository disappears altogether: the same, with the path
    rmSync(ws.repo, { recursive: true, force: true });
    const third = await runCli(["run"], { cwd: ws.dir });
    expect(third.code, third.stderr).toBe(78);
    const report = JSON.parse((await runCli(["doctor", "--json"], { cwd: ws.dir })).stdout) as DoctorJson;
    const failed = report.checks.find((c) => c.name === "failed-runs");
    expect(failed?.status).toBe("warning");
    expect(failed?.message).toContain(`the folder ${ws.repo} does not exist`);
  });
});
