import path from "node:path";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { gitConfig, runCli, Workspace } from "./helpers/workspace.js";

const SINK = path.resolve(import.meta.dirname, "fixtures/slow-sink.mjs");

describe("incremental runs", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("process exactly the added, modified, deleted and renamed files", async () => {
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 50; i++)
      files[`docs/page-${i}.md`] = `page ${i}\n${"unchanging line\n".repeat(i % 5)}`;
    files["keep/modify.md"] = "old words";
    files["keep/delete.md"] = "soon gone zebra";
    files["keep/rename-me.md"] = "a file about giraffes that moves";
    ws.commit(files);
    ws.write(
      "syncwarden.yaml",
      gitConfig({ sink: `{ type: module, module: ${JSON.stringify(SINK)}, log: calls.log }` }),
    );
    expect((await runCli(["run"], { cwd: ws.dir })).code).toBe(0);
    const callsBefore = readFileSync(path.join(ws.dir, "calls.log"), "utf8")
      .split("\n")
      .filter(Boolean).length;
    expect(callsBefore).toBe(53);

    const head = ws.commit({
      "keep/rename-me.md": null,
      "moved/renamed.md": "a file about giraffes that moves",
      "keep/modify.md": "new words about otters",
      "keep/delete.md": null,
      "added.md": "brand new",
    });
    const run = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      phases: { total: number; completed: number; skipped: number }[];
    };
    // added + modified + deleted + rename (delete old, add new) = 5 items, nothing else
    expect(result.phases[0]).toMatchObject({ total: 5, completed: 5, skipped: 0 });
    const calls = readFileSync(path.join(ws.dir, "calls.log"), "utf8")
      .split("\n")
      .filter(Boolean)
      .slice(callsBefore);
    expect(calls.map((l) => l.split("\t").slice(1).join(" ")).sort()).toEqual([
      "delete keep/delete.md",
      "delete keep/rename-me.md",
      "upsert added.md",
      "upsert keep/modify.md",
      "upsert moved/renamed.md",
    ]);

    const docs = ws.documents("code");
    expect(docs.size).toBe(53);
    expect(docs.has("keep/delete.md")).toBe(false);
    expect(docs.has("keep/rename-me.md")).toBe(false);
    expect(docs.get("moved/renamed.md")).toBe("a file about giraffes that moves");
    expect(docs.get("keep/modify.md")).toBe("new words about otters");
    expect(ws.checkpoint("code", "files")).toBe(head);

    const giraffes = JSON.parse((await runCli(["search", "giraffes", "--json"], { cwd: ws.dir })).stdout) as {
      key: string;
    }[];
    expect(giraffes.map((h) => h.key)).toEqual(["moved/renamed.md"]);
    const zebra = JSON.parse(
      (await runCli(["search", "zebra", "--json"], { cwd: ws.dir })).stdout,
    ) as unknown[];
    expect(zebra).toEqual([]);

    // nothing changed: nothing planned, nothing called
    const again = await runCli(["run", "--json"], { cwd: ws.dir });
    expect((JSON.parse(again.stdout) as { phases: { total: number }[] }).phases[0]!.total).toBe(0);
    expect(readFileSync(path.join(ws.dir, "calls.log"), "utf8").split("\n").filter(Boolean).length).toBe(
      callsBefore + 5,
    );
  });

  it("plans to the head seen at plan time; a commit made during the run waits for the next run", async () => {
    ws = new Workspace();
    const planned = ws.commit({ "one.md": "one", "two.md": "two" });
    ws.write(
      "commit-during-run.mjs",
      `import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
let done = false;
export default (options, ctx) => ({
  type: "committing-sink",
  async apply(change, c) {
    if (!done) {
      done = true;
      const repo = path.join(ctx.baseDir, "repo");
      writeFileSync(path.join(repo, "late.md"), "made during the run");
      const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t.invalid" };
      execFileSync("git", ["-C", repo, "add", "-A"], { env });
      execFileSync("git", ["-C", repo, "commit", "-q", "-m", "late"], { env });
    }
    return change.kind === "delete"
      ? [{ kind: "delete", job: c.job, collection: "code", key: change.key }]
      : [{ kind: "upsert", job: c.job, collection: "code", key: change.key, version: change.version, content: change.content }];
  },
});
`,
    );
    ws.write(
      "syncwarden.yaml",
      gitConfig({ sync: { max_workers: 1 }, sink: "{ type: module, module: ./commit-during-run.mjs }" }),
    );
    expect((await runCli(["run"], { cwd: ws.dir })).code).toBe(0);
    expect(ws.checkpoint("code", "files")).toBe(planned);
    expect(ws.documents("code").has("late.md")).toBe(false);
    const late = ws.head();
    expect(late).not.toBe(planned);
    expect((await runCli(["run"], { cwd: ws.dir })).code).toBe(0);
    expect(ws.checkpoint("code", "files")).toBe(late);
    expect(ws.documents("code").get("late.md")).toBe("made during the run");
  });
});
