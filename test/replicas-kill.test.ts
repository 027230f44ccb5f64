import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI } from "./helpers/workspace.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

let ws: ReplicaWorkspace;
afterEach(() => ws.cleanup());

/** Where a run is killed, each on a line the run prints (`--progress`) as it gets there. */
type KillPoint = "as it starts applying" | "right after a checkpoint";

/**
 * Starts `replicate --progress` and SIGKILLs it at `point`; true when it was killed (false: it ended
 * first). A checkpoint comes once a run has applied for a second: the run is stopped (SIGSTOP) as it
 * starts applying, held for 1.1 s, and continued, so the next action it finishes writes one.
 */
function killAt(cwd: string, point: KillPoint): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "replicate", "--progress"], {
      cwd,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let seen = "";
    let held = false;
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      seen += text;
      const applying = / applying \d+ actions\n/.test(seen);
      if (point === "as it starts applying" && applying) child.kill("SIGKILL");
      else if (point === "right after a checkpoint" && / \(checkpoint recorded\)\n/.test(seen))
        child.kill("SIGKILL");
      else if (point === "right after a checkpoint" && applying && !held) {
        held = true;
        child.kill("SIGSTOP");
        setTimeout(() => child.exitCode === null && child.kill("SIGCONT"), 1100);
      }
    });
    child.on("error", reject);
    child.on("close", (_code, signal) => resolve(signal === "SIGKILL"));
  });
}

const POINTS: KillPoint[] = ["as it starts applying", "right after a checkpoint"];

describe("replicate: crash recovery", () => {
  it("runs SIGKILLed as they apply (at its start, right after a checkpoint) are resumed and converge, with no false conflicts and nothing lost", async () => {
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
     * New files on one side before each attempt, so every run has copying to do when the kill lands. New
     * names only: a file a killed run already carried is then the same on both sides, never an edit on
     * one side against a copy.
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
    for (let attempt = 0; attempt < 6; attempt++) {
      if (attempt > 0) addFiles();
      if (await killAt(ws.dir, POINTS[attempt % 2]!)) kills++;
    }
    expect(kills).toBe(6);
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
    for (let attempt = 0; attempt < 4; attempt++) {
      if (attempt > 0) addFiles();
      if (await killAt(ws.dir, POINTS[attempt % 2]!)) more++;
    }
    expect(more).toBe(4);
    const final = await ws.replicate();
    expect(final.code).toBe(0);
    expect(final.json.targets[0]!.conflicts).toEqual([]);
    expect((await ws.cli(["replicas", "verify"])).code).toBe(0);
    expect(ws.tree(ws.local)).toEqual(Object.fromEntries(model));
    expect(ws.tree(ws.remote)).toEqual(Object.fromEntries(model));
  });
});
