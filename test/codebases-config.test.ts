import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { isConfigError } from "../src/errors.js";
import { Workspace } from "./helpers/workspace.js";

const SYNC_CONFIG = `sync:
  max_retries: 3
  retry_wait_seconds: 60
  rate_limit_wait_seconds: 60
  max_workers: 4
  pause_on_rate_limit: true
codebases:
  - name: olake
    repo_url: https://github.com/datazip-inc/olake
    branch: master
  - name: tools
    repo_url: https://ghe.example.test/acme/tools.git
processing:
  exclude_patterns: ["node_modules/", "*.min.js", "docs/build"]
  supported_languages: [python, go]
`;

describe("the code indexer's sync_config.yaml (codebases, processing)", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("each codebase becomes a job of one github phase; exclude_patterns and supported_languages become globs", () => {
    ws = new Workspace();
    const file = ws.write("sync_config.yaml", SYNC_CONFIG);
    const { config } = loadConfig(file, { GITHUB_TOKEN: "ghp_exampleexampleexample" });
    expect(Object.keys(config.jobs)).toEqual(["olake", "tools"]);
    const olake = config.jobs.olake!.phases[0]!;
    expect(olake.name).toBe("files");
    expect(olake.source).toMatchObject({
      type: "github",
      repo: "https://github.com/datazip-inc/olake",
      branch: "master",
      token: "${GITHUB_TOKEN}",
      base_url: "https://api.github.com",
    });
    const source = olake.source as { include: string[]; exclude: string[] };
    expect(source.include).toContain("**/*.py");
    expect(source.include).toContain("**/*.go");
    expect(source.include).not.toContain("**/*.ts");
    expect(source.exclude).toEqual(
      expect.arrayContaining(["**/node_modules/**", "**/*.min.js", "docs/build", "docs/build/**"]),
    );
    expect(olake.sink).toMatchObject({ type: "sqlite-docs", table: "olake" });
    // a GitHub Enterprise Server host: its /api/v3
    expect(config.jobs.tools!.phases[0]!.source).toMatchObject({
      base_url: "https://ghe.example.test/api/v3",
    });
    expect(config.sync.max_workers).toBe(4);
  });

  it("without GITHUB_TOKEN the source is anonymous; GITHUB_API_URL points every codebase at another API", () => {
    ws = new Workspace();
    const file = ws.write("sync_config.yaml", SYNC_CONFIG);
    const { config } = loadConfig(file, { GITHUB_API_URL: "http://127.0.0.1:9/api/v3" });
    const source = config.jobs.olake!.phases[0]!.source as { token?: string; base_url: string };
    expect(source.token).toBeUndefined();
    expect(source.base_url).toBe("http://127.0.0.1:9/api/v3");
  });

  it("an unknown language, an unknown key and a clashing name are errors naming file, line and key", () => {
    ws = new Workspace();
    const file = ws.write(
      "sync_config.yaml",
      `jobs:\n  olake:\n    phases:\n      - { name: a, source: { type: git }, sink: { type: sqlite-docs } }\ncodebases:\n  - name: olake\n    repo_url: acme/olake\n    brnch: main\nprocessing:\n  supported_languages: [pyton]\n`,
    );
    let message = "";
    try {
      loadConfig(file, {});
    } catch (e) {
      if (!isConfigError(e)) throw e;
      message = e.message;
    }
    expect(message).toContain(`${file}:6:11: codebases[0].name: codebase name "olake" is already a job`);
    expect(message).toContain(`${file}:8:5: codebases[0]: unknown key "brnch"; did you mean branch?`);
    expect(message).toMatch(
      /sync_config\.yaml:10:\d+: processing\.supported_languages\[0\]: unknown language "pyton"; did you mean python\?/,
    );
  });
});
