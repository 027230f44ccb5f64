import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI } from "./helpers/workspace.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

let ws: ReplicaWorkspace;
afterEach(() => ws.cleanup());

/** Starts `replicate` and SIGKILLs it after `ms` unless it ended first; true when it was killed. */
function killAfter(cwd: string, ms: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "replicate"], { cwd, stdio: "ignore" });
    const timer = setTimeout(() => child.kill("SIGKILL"), ms);
    child.on("error", reject);
    child.on("close", (_code, signal) => {
      clearTimeout(timer);
      resolve(signal === "SIGKILL");
    });
  });
}

describe("replicate: crash recovery", () => {
  it("runs SIGKILLed at random points are resumed and converge, with no false conflicts and nothing lost", async () => {
    ws = new ReplicaWorkspace();
    const model = new Map<string, string>();
    for (const [side, root] of [
      ["l", ws.local],
      ["r", ws.remote],
    ] as const) {
      for (let i = 0; i < 1000; i++) {
        const rel = `d${i % 20}/${side}-${i}.txt`;
        mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        writeFileSync(path.join(root, rel), `${side} ${i}\n`);
        model.set(rel, `${side} ${i}\n`);
      }
    }
    /**
     * New files on one side before each attempt, so every run has copying to do when the kill lands (a
     * run with nothing left to do ends before most kill points). New names only: a file a killed run
     * already carried is then the same on both sides, never an edit on one side against a copy.
     */
    let batch = 0;
    const addFiles = (): void => {
      const [side, root] = batch % 2 === 0 ? ["l", ws.local] : ["r", ws.remote];
      for (let i = 0; i < 150; i++) {
        const rel = `new${batch}/${side}-${i}.txt`;
        mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
        writeFileSync(path.join(root, rel), `${side} batch ${batch} ${i}\n`);
        model.set(rel, `${side} batch ${batch} ${i}\n`);
      }
      batch++;
    };
    let kills = 0;
    for (let attempt = 0; attempt < 25 && kills < 6; attempt++) {
      if (attempt > 0) addFiles();
      if (await killAfter(ws.dir, 100 + Math.floor(Math.random() * 600))) kills++;
    }
    expect(kills).toBeGreaterThanOrEqual(5);
    const last = await ws.replicate();
    expect(last.code).toBe(0);
    expect(last.json.targets[0]!.conflicts).toEqual([]);
    const verify = await ws.cli(["replicas", "verify"]);
    expect(verify.stdout).toContain("identical");
    expect(verify.code).toBe(0);
    expect(ws.tree(ws.local)).toEqual(Object.fromEntries(model));
    expect(ws.tree(ws.remote)).toEqual(Object.fromEntries(model));
    for (const root of [ws.local, ws.remote]) {
      const names = readdirSync(root, { recursive: true }).map(String);
      expect(names.filter((n) => n.includes(".conflict-") || n.includes(".syncwarden-tmp-"))).toEqual([]);
    }
    const again = await ws.replicate();
    expect(again.json.targets[0]).toMatchObject({ copied: 0, deleted: 0 });

    // then edits and deletions on both sides, and more kills
    for (let i = 0; i < 1000; i += 10) {
      const [l, r] = [`d${i % 20}/l-${i}.txt`, `d${i % 20}/r-${i}.txt`];
      model.set(l, `edited locally ${i}\n`);
      writeFileSync(path.join(ws.local, l), model.get(l)!);
      model.set(r, `edited remotely ${i}\n`);
      writeFileSync(path.join(ws.remote, r), model.get(r)!);
      const [dl, dr] = [`d${(i + 1) % 20}/l-${i + 1}.txt`, `d${(i + 1) % 20}/r-${i + 1}.txt`];
      rmSync(path.join(ws.remote, dl));
      rmSync(path.join(ws.local, dr));
      model.delete(dl);
      model.delete(dr);
    }
    let more = 0;
    for (let attempt = 0; attempt < 15 && more < 3; attempt++) {
      if (attempt > 0) addFiles();
      if (await killAfter(ws.dir, 100 + Math.floor(Math.random() * 600))) more++;
    }
    expect(more).toBeGreaterThanOrEqual(1);
    const final = await ws.replicate();
    expect(final.code).toBe(0);
    expect(final.json.targets[0]!.conflicts).toEqual([]);
    expect((await ws.cli(["replicas", "verify"])).code).toBe(0);
    expect(ws.tree(ws.local)).toEqual(Object.fromEntries(model));
    expect(ws.tree(ws.remote)).toEqual(Object.fromEntries(model));
  });
});
