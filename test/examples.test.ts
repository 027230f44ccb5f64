import { cpSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { ROOT, runCli, Workspace } from "./helpers/workspace.js";

describe("examples", () => {
  let ws: Workspace | undefined;
  afterEach(() => ws?.cleanup());

  it("every example config and the repository's own syncwarden.yaml are valid", () => {
    for (const file of [
      "syncwarden.yaml",
      "examples/code-index.yaml",
      "examples/custom-sink.yaml",
      "examples/sync_config.yaml",
    ]) {
      const loaded = loadConfig(path.join(ROOT, file), {});
      expect(Object.keys(loaded.config.jobs).length).toBeGreaterThan(0);
    }
  });

  it("the folder-sink example mirrors files, and removes them when they are deleted", async () => {
    ws = new Workspace();
    ws.commit({ "guide.md": "# Guide", "docs/deep.md": "deep text", "skip.txt": "not markdown" });
    cpSync(path.join(ROOT, "examples/connectors"), path.join(ws.dir, "examples/connectors"), {
      recursive: true,
    });
    ws.write(
      "examples/mirror.yaml",
      readFileSync(path.join(ROOT, "examples/custom-sink.yaml"), "utf8").replace("repo: ..", "repo: ../repo"),
    );
    const run = await runCli(["run", "-c", "examples/mirror.yaml"], { cwd: ws.dir });
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(path.join(ws.dir, "mirror/docs/deep.md"), "utf8")).toBe("deep text");
    expect(existsSync(path.join(ws.dir, "mirror/skip.txt"))).toBe(false);
    ws.commit({ "guide.md": null });
    expect((await runCli(["run", "-c", "examples/mirror.yaml"], { cwd: ws.dir })).code).toBe(0);
    expect(existsSync(path.join(ws.dir, "mirror/guide.md"))).toBe(false);
  });
});
