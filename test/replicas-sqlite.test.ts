import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "./helpers/workspace.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

let ws: ReplicaWorkspace;
afterEach(() => ws.cleanup());

const WRITER = `
const Database = require(${JSON.stringify(path.join(ROOT, "node_modules/better-sqlite3"))});
const fs = require("node:fs");
const [file, stop] = process.argv.slice(2);
const db = new Database(file);
db.pragma("journal_mode = WAL");
db.pragma("busy_timeout = 10000");
db.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
const insert = db.prepare("INSERT INTO notes (body) VALUES (?)");
let n = 0;
process.stdout.write("ready\\n");
const tick = () => {
  if (fs.existsSync(stop)) { db.close(); process.stdout.write("rows " + n + "\\n"); return; }
  for (let i = 0; i < 5; i++) insert.run("note " + (++n) + " " + "x".repeat(200));
  setTimeout(tick, 2);
};
tick();
`;

function ids(file: string): number[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma("quick_check", { simple: true })).toBe("ok");
    return db
      .prepare<[], { id: number }>("SELECT id FROM notes ORDER BY id")
      .all()
      .map((r) => r.id);
  } finally {
    db.close();
  }
}

describe("replicate: SQLite databases", () => {
  it("carries a live WAL database with a concurrent writer, with every committed row", async () => {
    ws = new ReplicaWorkspace();
    const script = ws.write("writer.cjs", WRITER);
    const dbFile = path.join(ws.local, "app.db");
    const stop = path.join(ws.dir, "stop");
    const writer = spawn(process.execPath, [script, dbFile, stop], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    writer.stdout.on("data", (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => writer.on("close", resolve));
    while (!out.includes("ready")) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 3; i++) {
      const r = await ws.replicate();
      expect(r.code).toBe(0);
      expect(r.json.targets[0]!.errors).toEqual([]);
      const carried = ids(path.join(ws.remote, "app.db"));
      expect(carried.length).toBeGreaterThan(0);
      // a consistent snapshot: ids 1..n with no hole
      expect(carried).toEqual(carried.map((_, k) => k + 1));
    }
    writeFileSync(stop, "");
    expect(await exited).toBe(0);
    const total = Number(/rows (\d+)/.exec(out)?.[1]);
    expect(total).toBeGreaterThan(0);
    const last = await ws.replicate();
    expect(last.code).toBe(0);
    expect(ids(path.join(ws.remote, "app.db"))).toEqual(Array.from({ length: total }, (_, k) => k + 1));
    // the raw -wal/-shm files are never carried (nor listed as files of the replica)
    const v = await ws.cli(["replicas", "verify", "--json"]);
    expect(v.stdout).not.toContain("-wal");
    expect((await ws.cli(["replicas", "verify"])).code).toBe(0);

    // a change on the other side comes back into the local database while a connection holds it
    const held = new Database(dbFile);
    const remote = new Database(path.join(ws.remote, "app.db"));
    remote.prepare("INSERT INTO notes (body) VALUES ('from the other machine')").run();
    remote.close();
    const back = await ws.replicate();
    expect(back.code).toBe(0);
    expect(back.json.targets[0]!.copied).toBe(1);
    const row = held.prepare<[], { body: string }>("SELECT body FROM notes ORDER BY id DESC LIMIT 1").get();
    expect(row?.body).toBe("from the other machine");
    held.close();
    expect((await ws.cli(["replicas", "verify"])).code).toBe(0);
  });

  it("a database changed on both sides: manual keeps both as databases, the loser backed up", async () => {
    ws = new ReplicaWorkspace();
    const local = path.join(ws.local, "app.db");
    const db = new Database(local);
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
    db.prepare("INSERT INTO notes (body) VALUES ('base')").run();
    db.close();
    expect((await ws.replicate()).code).toBe(0);
    for (const [file, body] of [
      [local, "local"],
      [path.join(ws.remote, "app.db"), "remote"],
    ] as const) {
      const d = new Database(file);
      d.prepare("INSERT INTO notes (body) VALUES (?)").run(body);
      d.close();
    }
    const r = await ws.replicate("--conflict", "manual");
    expect(r.code).toBe(3);
    const c = r.json.targets[0]!.conflicts[0]!;
    expect(c.keptAs).toMatch(/^app\.conflict-.+\.db$/);
    for (const root of [ws.local, ws.remote]) {
      expect(ids(path.join(root, "app.db"))).toEqual([1, 2]);
      expect(ids(path.join(root, c.keptAs!))).toEqual([1, 2]);
    }
    expect(existsSync(c.backup)).toBe(true);
    expect(ids(c.backup)).toEqual([1, 2]);
    expect((await ws.cli(["replicas", "verify"])).code).toBe(0);
    const again = await ws.replicate();
    expect(again.json.targets[0]).toMatchObject({ copied: 0, conflicts: [] });
  });
});
