import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { entriesOf, readManifest } from "../src/replicas/manifest.js";
import { stateSnapshotPath } from "../src/replicas/state-snapshot.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

const T0 = 1_700_000_000;
let ws: ReplicaWorkspace;
afterEach(() => ws.cleanup());

describe("replicate: bidirectional three-way sync", () => {
  it("propagates adds, edits, deletes and renames on both sides; deletions never come back", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a1");
    ws.put(ws.local, "sub/b.txt", "b1");
    ws.put(ws.remote, "c.txt", "c1");
    const first = await ws.replicate();
    expect(first.code).toBe(0);
    expect(first.json.targets[0]!.initialised).toBe(true);
    expect(existsSync(path.join(ws.remote, ".syncwarden-replica"))).toBe(true);
    const all = { "a.txt": "a1", "sub/b.txt": "b1", "c.txt": "c1" };
    expect(ws.tree(ws.local)).toEqual(all);
    expect(ws.tree(ws.remote)).toEqual(all);

    ws.put(ws.remote, "a.txt", "a2-remote", T0 + 500); // edit on remote
    ws.put(ws.local, "d.txt", "d1"); // add on local
    ws.del(ws.local, "c.txt"); // delete on local
    ws.del(ws.remote, "sub/b.txt"); // rename on remote
    ws.put(ws.remote, "sub/renamed.txt", "b1");
    const second = await ws.replicate();
    expect(second.code).toBe(0);
    const want = { "a.txt": "a2-remote", "d.txt": "d1", "sub/renamed.txt": "b1" };
    expect(ws.tree(ws.local)).toEqual(want);
    expect(ws.tree(ws.remote)).toEqual(want);
    expect(second.json.targets[0]).toMatchObject({ copied: 3, deleted: 2, conflicts: [] });

    const third = await ws.replicate();
    expect(third.json.targets[0]).toMatchObject({ status: "ok", copied: 0, deleted: 0 });
    expect(ws.tree(ws.local)).toEqual(want);
    expect(ws.tree(ws.remote)).toEqual(want);
    expect((await ws.cli(["replicas", "verify"])).code).toBe(0);
    // a deleted file's last version is kept in backups/
    expect(Object.values(ws.backups())).toContain("c1");
  });

  it("an unchanged tree is left alone (manifest not rewritten); a same-size edit still gets through", async () => {
    ws = new ReplicaWorkspace();
    for (let i = 0; i < 30; i++) ws.put(ws.local, `f${i}.txt`, `v1-${i}`);
    expect((await ws.replicate()).code).toBe(0);
    const manifestFile = path.join(
      ws.dir,
      ".syncwarden",
      "replicas",
      readdirSync(path.join(ws.dir, ".syncwarden", "replicas"))[0]!,
    );
    // the first rerun records the files it copied in the walk's own order (once)
    expect((await ws.replicate()).json.targets[0]).toMatchObject({ status: "ok", copied: 0, deleted: 0 });
    const before = statSync(manifestFile).mtimeMs;
    const idle = await ws.replicate();
    expect(idle.json.targets[0]).toMatchObject({ status: "ok", copied: 0, deleted: 0 });
    expect(statSync(manifestFile).mtimeMs).toBe(before);
    // same length, new contents, new mtime: its walk record differs, so the file is hashed and carried
    ws.put(ws.remote, "f7.txt", "v2-7", T0 + 900);
    const edited = await ws.replicate();
    expect(edited.json.targets[0]).toMatchObject({ status: "ok", copied: 1 });
    expect(readFileSync(path.join(ws.local, "f7.txt"), "utf8")).toBe("v2-7");
    expect((await ws.cli(["replicas", "verify"])).code).toBe(0);
  });

  it("a file whose size changed on one side is carried and recorded with its copy's hash; two such edits conflict", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "grow.txt", "v1");
    ws.put(ws.local, "both.txt", "v1");
    await ws.replicate();
    ws.put(ws.local, "grow.txt", "version two, longer", T0 + 50); // one side, new size: not hashed first
    const r = await ws.replicate();
    expect(r.json.targets[0]).toMatchObject({ status: "ok", copied: 1, conflicts: [] });
    expect(readFileSync(path.join(ws.remote, "grow.txt"), "utf8")).toBe("version two, longer");
    // the manifest holds that version's hash on both sides: a same-size, same-content touch is no change
    const sha = createHash("sha256").update("version two, longer").digest("hex");
    const m = readManifest(path.join(ws.dir, ".syncwarden"), "notes", "drive")!;
    for (const block of [m.local, m.remote])
      expect(entriesOf(block).find((e) => e.path === "grow.txt")?.sha256).toBe(sha);
    ws.put(ws.remote, "grow.txt", "version two, longer", T0 + 500);
    expect((await ws.replicate()).json.targets[0]).toMatchObject({ status: "ok", copied: 0, conflicts: [] });
    // both sides change the same file to different sizes and contents: a conflict (both hashed)
    ws.put(ws.local, "both.txt", "local edit", T0 + 60);
    ws.put(ws.remote, "both.txt", "a longer remote edit", T0 + 70);
    const c = await ws.replicate();
    expect(c.json.targets[0]!.conflicts.map((x) => x.path)).toEqual(["both.txt"]);
    expect((await ws.cli(["replicas", "verify"])).code).toBe(0);
  });

  it("identical edits on both sides are not conflicts; verify reports differences", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "n.md", "v1");
    await ws.replicate();
    ws.put(ws.local, "n.md", "same edit", T0 + 10);
    ws.put(ws.remote, "n.md", "same edit", T0 + 99);
    const r = await ws.replicate();
    expect(r.code).toBe(0);
    expect(r.json.targets[0]).toMatchObject({ copied: 0, conflicts: [] });

    ws.put(ws.remote, "extra.md", "x");
    const v = await ws.cli(["replicas", "verify", "notes", "--json"]);
    expect(v.code).toBe(3);
    expect(JSON.parse(v.stdout)).toMatchObject({ targets: [{ match: false, onlyRemote: ["extra.md"] }] });
  });

  it("--dry-run prints the plan and writes nothing", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "a");
    ws.put(ws.local, "k.txt", "k");
    ws.put(ws.local, "l.txt", "l");
    await ws.replicate();
    ws.put(ws.local, "b.txt", "b");
    ws.del(ws.local, "a.txt");
    const r = await ws.replicate("--dry-run");
    expect(r.code).toBe(0);
    expect(r.json.targets[0]!.plan).toEqual([
      expect.objectContaining({ kind: "delete", path: "a.txt" }),
      expect.objectContaining({ kind: "copy", path: "b.txt" }),
    ]);
    expect(ws.tree(ws.remote)).toEqual({ "a.txt": "a", "k.txt": "k", "l.txt": "l" });
    const text = await ws.cli(["replicate", "--dry-run"]);
    expect(text.stdout).toContain("delete on remote: a.txt");
  });

  it("push carries local changes only and leaves remote changes where they are", async () => {
    ws = new ReplicaWorkspace([{ extra: "direction: push" }]);
    ws.put(ws.local, "a.txt", "a");
    ws.put(ws.remote, "r.txt", "r");
    const r = await ws.replicate();
    expect(ws.tree(ws.remote)).toEqual({ "a.txt": "a", "r.txt": "r" });
    expect(ws.tree(ws.local)).toEqual({ "a.txt": "a" });
    expect(r.json.targets[0]!.skipped.map((s) => s.path)).toEqual(["r.txt"]);
  });
});

describe("replicate: --direction pull", () => {
  it("carries remote changes only; a conflict is won by the remote side, the local version backed up", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "a.txt", "base");
    ws.put(ws.local, "b.txt", "b");
    ws.put(ws.local, "c.txt", "c");
    await ws.replicate();
    ws.put(ws.local, "a.txt", "local edit", T0 + 900);
    ws.put(ws.remote, "a.txt", "remote edit", T0 + 100);
    ws.put(ws.local, "new-local.txt", "stays here");
    ws.put(ws.remote, "new-remote.txt", "comes over");
    const r = await ws.replicate("--direction", "pull");
    expect(r.code).toBe(0);
    expect(ws.tree(ws.local)).toEqual({
      "a.txt": "remote edit",
      "b.txt": "b",
      "c.txt": "c",
      "new-local.txt": "stays here",
      "new-remote.txt": "comes over",
    });
    expect(ws.tree(ws.remote)).not.toHaveProperty("new-local.txt");
    expect(ws.backups()).toEqual({ "a.txt": "local edit" });
  });
});

describe("replicate: the state folder by default", () => {
  it("carries the state folder but not the ledger, its manifests or its backups", async () => {
    ws = new ReplicaWorkspace([{}], null);
    const state = path.join(ws.dir, ".syncwarden");
    ws.put(state, "notes/today.md", "hello");
    const r = await ws.replicate();
    expect(r.code).toBe(0);
    expect(existsSync(path.join(state, "state.db"))).toBe(true);
    // and this machine's state snapshot, outside the reconciled files (test/replicas-snapshot.test.ts)
    const snapshot = path.relative(ws.remote, stateSnapshotPath(ws.remote));
    expect(Object.keys(ws.tree(ws.remote)).sort()).toEqual([snapshot, "notes/today.md"]);
    ws.put(ws.remote, "from-other.md", "x");
    await ws.replicate();
    expect(ws.tree(state)).toMatchObject({ "from-other.md": "x", "notes/today.md": "hello" });
    expect(Object.keys(ws.tree(ws.remote)).sort()).toEqual([snapshot, "from-other.md", "notes/today.md"]);
    expect((await ws.cli(["replicas", "verify"])).code).toBe(0);
  });
});

describe("replicate: conflict strategies", () => {
  async function conflict(strategy: string): Promise<Awaited<ReturnType<ReplicaWorkspace["replicate"]>>> {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "doc.txt", "base");
    await ws.replicate();
    ws.put(ws.local, "doc.txt", "local edit", T0 + 2000); // newer
    ws.put(ws.remote, "doc.txt", "remote edit", T0 + 1000);
    return ws.replicate("--conflict", strategy);
  }

  it("newest: the newer version wins, the other is backed up", async () => {
    const r = await conflict("newest");
    expect(r.code).toBe(0);
    expect(ws.tree(ws.remote)).toEqual({ "doc.txt": "local edit" });
    expect(ws.tree(ws.local)).toEqual({ "doc.txt": "local edit" });
    expect(r.json.targets[0]!.conflicts).toEqual([
      expect.objectContaining({ winner: "local", loser: "remote" }),
    ]);
    expect(ws.backups()).toEqual({ "doc.txt": "remote edit" });
  });

  it("local: the local version wins", async () => {
    await conflict("local");
    expect(ws.tree(ws.remote)).toEqual({ "doc.txt": "local edit" });
    expect(ws.backups()).toEqual({ "doc.txt": "remote edit" });
  });

  it("remote: the remote version wins even though it is older", async () => {
    await conflict("remote");
    expect(ws.tree(ws.local)).toEqual({ "doc.txt": "remote edit" });
    expect(ws.tree(ws.remote)).toEqual({ "doc.txt": "remote edit" });
    expect(ws.backups()).toEqual({ "doc.txt": "local edit" });
  });

  it("manual: both kept, the loser renamed with a .conflict suffix, exit 3", async () => {
    const r = await conflict("manual");
    expect(r.code).toBe(3);
    const c = r.json.targets[0]!.conflicts[0]!;
    expect(c.keptAs).toMatch(/^doc\.txt\.conflict-.+-\d{8}T\d{6}\.\d{3}Z$/);
    const want = { "doc.txt": "local edit", [c.keptAs!]: "remote edit" };
    expect(ws.tree(ws.local)).toEqual(want);
    expect(ws.tree(ws.remote)).toEqual(want);
    expect(ws.backups()).toEqual({ "doc.txt": "remote edit" });
    const again = await ws.replicate();
    expect(again.json.targets[0]).toMatchObject({ copied: 0, conflicts: [] });
  });

  it("newest with equal mtimes falls back to manual", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "doc.txt", "base");
    await ws.replicate();
    ws.put(ws.local, "doc.txt", "L", T0);
    ws.put(ws.remote, "doc.txt", "R", T0);
    const r = await ws.replicate("--conflict", "newest");
    expect(r.code).toBe(3);
    expect(r.json.targets[0]!.conflicts[0]!.winner).toBe("manual");
    expect(Object.values(ws.tree(ws.local)).sort()).toEqual(["L", "R"]);
  });
});
