import { existsSync } from "node:fs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { overStdio } from "./helpers/mcp-client.js";
import { freshSchema, testPostgres } from "./helpers/postgres.js";
import { gitConfig, runCli, Workspace } from "./helpers/workspace.js";

afterAll(async () => (await testPostgres()).stop());

interface RunJson {
  status: string;
  phases: { completed: number; skipped: number; total: number; checkpoint: string | null }[];
}

describe("the CLI on a PostgreSQL ledger", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("ledger copy moves a SQLite ledger to PostgreSQL and back: runs continue there without re-syncing, search answers, nothing is lost", async () => {
    const { url } = await testPostgres();
    const schema = freshSchema();
    ws = new Workspace();
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`src/f${i}.ts`] = `export const value${i} = "needle${i} haystack";\n`;
    const first = ws.commit(files, "forty files");
    ws.write("syncwarden.yaml", gitConfig());
    const cwd = ws.dir;

    const onSqlite = await runCli(["run", "--json"], { cwd });
    expect(onSqlite.code).toBe(0);
    expect((JSON.parse(onSqlite.stdout) as RunJson).phases[0]!.completed).toBe(40);

    const copied = await runCli(["ledger", "copy", "--to", url, "--schema", schema, "--json"], { cwd });
    expect(copied.stderr).toBe("");
    expect(copied.code).toBe(0);
    const there = JSON.parse(copied.stdout) as { tables: Record<string, { rows: number }> };
    expect(there.tables.items!.rows).toBe(40);
    expect(there.tables.documents!.rows).toBe(40);
    // a second copy into the same schema is refused (it holds rows), naming the flag that allows it
    const again = await runCli(["ledger", "copy", "--to", url, "--schema", schema], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("--replace");

    const pg = { SYNCWARDEN_DATABASE_URL: url, SYNCWARDEN_DATABASE_SCHEMA: schema };
    // on PostgreSQL: the checkpoint came along, so a run with no new commit has nothing to do
    const noChange = await runCli(["run", "--json"], { cwd, env: pg });
    expect(noChange.code).toBe(0);
    const idle = JSON.parse(noChange.stdout) as RunJson;
    expect(idle.phases[0]!.total).toBe(0);
    expect(idle.phases[0]!.checkpoint).toBe(first);
    // a new commit: only the changed file is processed
    const second = ws.commit({ "src/f3.ts": `export const value3 = "changed needle";\n` }, "one change");
    const delta = await runCli(["run", "--json"], { cwd, env: pg });
    expect(delta.code).toBe(0);
    const changed = JSON.parse(delta.stdout) as RunJson;
    expect(changed.phases[0]).toMatchObject({ total: 1, completed: 1, checkpoint: second });
    // search reads the PostgreSQL document store: the copied documents and the new one
    const found = await runCli(["search", "needle7", "--json"], { cwd, env: pg });
    expect(found.code).toBe(0);
    expect(JSON.stringify(JSON.parse(found.stdout))).toContain("src/f7.ts");
    const status = await runCli(["status", "--json"], { cwd, env: pg });
    expect(status.stdout).toContain(second);

    // and back: a fresh SQLite file holding the PostgreSQL ledger, checkpoint included
    const back = await runCli(["ledger", "copy", "--to", "back/state.db", "--json"], { cwd, env: pg });
    expect(back.code).toBe(0);
    const backTables = (JSON.parse(back.stdout) as { tables: Record<string, { rows: number }> }).tables;
    expect(backTables.documents!.rows).toBe(40);
    const fromBack = await runCli(["status", "--json"], { cwd, env: { SYNCWARDEN_STATE_DIR: "back" } });
    expect(fromBack.code).toBe(0);
    expect(fromBack.stdout).toContain(second);
  });

  it("ledger: in the configuration with a postgres-docs sink: run stores there, and an MCP client's search finds it, ranked, with a snippet", async () => {
    const { url } = await testPostgres();
    const schema = freshSchema();
    ws = new Workspace();
    ws.commit({
      "docs/alpha.md": "the quick brown fox jumps over the lazy dog\n",
      "docs/beta.md": "a lazy afternoon with no fox at all, only a dog\n",
      "docs/gamma.md": "nothing to see here\n",
    });
    const config = gitConfig({ sink: "{ type: postgres-docs, table: code }" });
    ws.write("syncwarden.yaml", `ledger: { url: ${JSON.stringify(url)}, schema: ${schema} }\n${config}`);
    const run = await runCli(["run", "--json"], { cwd: ws.dir });
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as RunJson).phases[0]!.completed).toBe(3);
    // nothing went to a SQLite file: the state folder holds no ledger
    expect(existsSync(ws.dbFile)).toBe(false);

    const cleanups: (() => Promise<void> | void)[] = [];
    try {
      const { call } = await overStdio(ws.configFile, ws.dir, cleanups);
      const found = (await call("search", { query: '"quick brown" fox', job: "code", limit: 5 }))
        .structuredContent as { hits: { key: string; snippet: string }[] };
      expect(found.hits.map((h) => h.key)).toEqual(["docs/alpha.md"]);
      expect(found.hits[0]!.snippet).toContain("[quick]");
      const both = (await call("search", { query: "lazy dog -afternoon", limit: 5 })).structuredContent as {
        hits: { key: string }[];
      };
      expect(both.hits.map((h) => h.key)).toEqual(["docs/alpha.md"]);
    } finally {
      for (const c of cleanups.reverse()) await c();
    }
  });

  it("a postgres-docs sink without a PostgreSQL ledger is a configuration error naming the key", async () => {
    ws = new Workspace();
    ws.commit({ "a.txt": "a\n" });
    ws.write("syncwarden.yaml", gitConfig({ sink: "{ type: postgres-docs }" }));
    const r = await runCli(["run"], { cwd: ws.dir });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(
      "jobs.code.phases.files.sink: postgres-docs writes into the PostgreSQL ledger",
    );
  });
});
