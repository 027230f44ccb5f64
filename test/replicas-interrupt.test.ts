import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { CLI } from "./helpers/workspace.js";
import { ReplicaWorkspace, type ReplicateJson } from "./replicas-workspace.js";

let ws: ReplicaWorkspace;
afterEach(() => ws.cleanup());

/** `replicate --progress --json`, sent SIGINT as it starts applying; its exit code and report. */
function interruptAsItApplies(cwd: string): Promise<{ code: number | null; json: ReplicateJson }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "replicate", "--progress", "--json"], {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => (out += t));
    child.stderr.setEncoding("utf8").on("data", (t: string) => {
      const before = / applying \d+ actions\n/.test(err);
      err += t;
      if (!before && / applying \d+ actions\n/.test(err)) child.kill("SIGINT");
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, json: JSON.parse(out) as ReplicateJson }));
  });
}

describe("replicate: SIGINT", () => {
  it("starts no more copies, records those done and exits 130; the next run does exactly the rest", async () => {
    ws = new ReplicaWorkspace();
    for (let i = 0; i < 2000; i++) ws.put(ws.local, `d${i % 20}/f${i}.txt`, `file ${i}\n`);
    const stopped = await interruptAsItApplies(ws.dir);
    expect(stopped.code).toBe(130);
    const first = stopped.json.targets[0]!;
    expect(first.status).toBe("interrupted");
    expect(first.copied).toBeLessThan(2000);
    expect(first.message).toContain(`${2000 - first.copied} actions not started`);
    const rest = await ws.replicate();
    expect(rest.code).toBe(0);
    expect(rest.json.targets[0]).toMatchObject({ status: "ok", copied: 2000 - first.copied, conflicts: [] });
    expect(ws.tree(ws.remote)).toEqual(ws.tree(ws.local));
    expect(Object.keys(ws.tree(ws.remote))).toHaveLength(2000);
  });
});
