import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig, resolveConfigFile } from "../src/config/load-config.js";
import { isConfigError } from "../src/errors.js";
import { gitConfig, runCli, Workspace } from "./helpers/workspace.js";

/** The message of the ConfigError loadConfig throws for `yaml` (written to the workspace's syncwarden.yaml). */
function messageFor(ws: Workspace, yaml: string): string {
  const file = ws.write("syncwarden.yaml", yaml);
  try {
    loadConfig(file, {});
  } catch (e) {
    if (isConfigError(e)) return e.message.replaceAll(file, "FILE");
    throw e;
  }
  throw new Error("the configuration was accepted");
}

describe("configuration messages", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('14.12 a wrong source type names the value, file, line and key: source type "gti" is not one of git, github, http-json, sessions, module', () => {
    ws = new Workspace();
    const message = messageFor(
      ws,
      "jobs:\n  code:\n    phases:\n      - name: files\n        source: { type: gti, repo: ./repo }\n        sink: { type: sqlite-doc }\n",
    );
    expect(message).toContain(
      'FILE:5:25: jobs.code.phases[0].source.type: source type "gti" is not one of git, github, http-json, sessions, module; did you mean git?',
    );
    expect(message).toContain(
      'FILE:6:23: jobs.code.phases[0].sink.type: sink type "sqlite-doc" is not one of sqlite-docs, postgres-docs, memory, module; did you mean sqlite-docs?',
    );
  });

  it("14.12 a misspelt key suggests the closest valid one (did you mean max_workers?), one line per unknown key", () => {
    ws = new Workspace();
    const message = messageFor(
      ws,
      "sync:\n  max_worker: 3\njobs:\n  code:\n    phases:\n      - name: files\n        source: { type: git, repo: ./repo, inclde: x, exclud: y }\n",
    );
    expect(message).toContain('FILE:2:3: sync: unknown key "max_worker"; did you mean max_workers?');
    expect(message).toContain(
      'FILE:7:44: jobs.code.phases[0].source: unknown key "inclde"; did you mean include?',
    );
    expect(message).toContain(
      'FILE:7:55: jobs.code.phases[0].source: unknown key "exclud"; did you mean exclude?',
    );
  });

  it("14.12 each problem is reported once, names the offending value, and a job name is called a job name", () => {
    ws = new Workspace();
    const message = messageFor(
      ws,
      [
        "sync: { max_workers: 0, max_retries: 2.5 }",
        "providers:",
        "  api:",
        "    base_url: not-a-url",
        "    retry: { jitter: fulll }",
        "    classify: { 40x: transient, '404': never }",
        "jobs:",
        "  'bad name!':",
        "    phases: [{ name: files, source: { type: git } }]",
        "  code:",
        "    phases: [{ name: files, source: { type: git }, incremental: maybe }]",
        "",
      ].join("\n"),
    );
    const lines = message
      .split("\n")
      .slice(1)
      .map((l) => l.trim());
    expect(lines).toEqual([
      "FILE:1:22: sync.max_workers: 0 is too small: must be at least 1",
      "FILE:1:38: sync.max_retries: 2.5 is not a whole number",
      'FILE:4:15: providers.api.base_url: "not-a-url" is not a valid url',
      'FILE:5:22: providers.api.retry.jitter: "fulll" is not one of full, decorrelated, none, true, false',
      'FILE:6:17: providers.api.classify: HTTP status "40x" must be 3 digits',
      'FILE:6:40: providers.api.classify.404: "never" is not one of transient, rate_limited, unavailable, permanent, config',
      `FILE:8:3: jobs: job name "bad name!" must be letters, digits, '_', '.' or '-'`,
      'FILE:11:65: jobs.code.phases[0].incremental: "maybe" is not true or false',
    ]);
    expect(message).not.toContain("Invalid key in record");

    // a misspelt jobs: is one problem, not also "define at least one job"
    const typo = messageFor(ws, "job:\n  code:\n    phases: [{ name: files, source: { type: git } }]\n");
    expect(typo.split("\n").slice(1)).toEqual([
      '  FILE:1:1: (top level): unknown key "job"; did you mean jobs?',
    ]);
    expect(new Set(lines).size).toBe(lines.length);
  });

  it("14.12 sync_config.yaml is found when syncwarden.yaml is absent; syncwarden.yaml comes first", () => {
    ws = new Workspace();
    const legacy = ws.write("sync_config.yaml", gitConfig());
    expect(resolveConfigFile(undefined, {}, ws.dir)).toBe(legacy);
    const preferred = ws.write("syncwarden.yaml", gitConfig());
    expect(resolveConfigFile(undefined, {}, ws.dir)).toBe(preferred);
    expect(resolveConfigFile("other.yaml", { SYNCWARDEN_CONFIG: "env.yaml" }, ws.dir)).toBe(
      path.join(ws.dir, "other.yaml"),
    );
    expect(resolveConfigFile(undefined, { SYNCWARDEN_CONFIG: "env.yaml" }, ws.dir)).toBe(
      path.join(ws.dir, "env.yaml"),
    );
  });

  it("14.12 through the CLI: exit 78 with value, file, line and suggestion on stderr; sync_config.yaml runs", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "alpha" });
    ws.write(
      "syncwarden.yaml",
      "sync: { max_worker: 2 }\njobs:\n  code:\n    phases:\n      - name: files\n        source: { type: gti, repo: ./repo }\n",
    );
    const bad = await runCli(["run"], { cwd: ws.dir });
    expect(bad.code).toBe(78);
    expect(bad.stdout).toBe("");
    const file = path.join(ws.dir, "syncwarden.yaml");
    expect(bad.stderr).toContain(`${file}:1:9: sync: unknown key "max_worker"; did you mean max_workers?`);
    expect(bad.stderr).toContain(
      `${file}:6:25: jobs.code.phases[0].source.type: source type "gti" is not one of git, github, http-json, sessions, module; did you mean git?`,
    );
    expect(existsSync(path.join(ws.dir, ".syncwarden"))).toBe(false);

    const none = await runCli(["status"], { cwd: path.join(ws.dir, "repo") });
    expect(none.code).toBe(78);
    expect(none.stderr).toContain("no syncwarden.yaml or sync_config.yaml in");

    ws.write("sync_config.yaml", gitConfig());
    const moved = await runCli(["run", "--json"], {
      cwd: ws.dir,
      env: { SYNCWARDEN_CONFIG: "sync_config.yaml" },
    });
    expect(moved.code, moved.stderr).toBe(0);
    // and without the variable, once syncwarden.yaml is gone
    const { rmSync } = await import("node:fs");
    rmSync(file);
    const found = await runCli(["status", "--json"], { cwd: ws.dir });
    expect(found.code, found.stderr).toBe(0);
    expect(ws.documents("code").get("a.md")).toBe("alpha");
  });
});
