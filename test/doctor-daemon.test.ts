import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, gitConfig, runCli, Workspace } from "./helpers/workspace.js";

let ws: Workspace;
afterEach(() => ws.cleanup());

describe("the daemon runs doctor's safe repairs", () => {
  it("prunes old backups and reclaims a stale lock on its first pass, and logs them as events", async () => {
    ws = new Workspace();
    ws.commit({ "a.md": "alpha" });
    ws.write("syncwarden.yaml", gitConfig().replace("  code:\n", "  code:\n    schedule: { every: 1h }\n"));
    expect((await runCli(["run"], { cwd: ws.dir })).code).toBe(0);

    const old = path.join(
      ws.dir,
      ".syncwarden",
      "backups",
      new Date(Date.now() - 45 * 86_400_000).toISOString(),
    );
    ws.write(path.relative(ws.dir, path.join(old, "notes.md")), "old");
    await ws.plantDeadLock("other");

    const child = spawn(process.execPath, [CLI, "daemon"], {
      cwd: ws.dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const done = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    try {
      const end = Date.now() + 10_000;
      while (!/doctor: \d+\/\d+ checks ok/.test(stderr) && Date.now() < end)
        await new Promise((r) => setTimeout(r, 100));
      child.kill("SIGTERM");
      expect(await done, stderr).toBe(0);
    } finally {
      clearTimeout(killer);
    }
    expect(stderr).toMatch(/doctor: prune-backups: deleted 1 backups past retention/);
    expect(stderr).toMatch(/doctor: reclaim-locks: deleted 1 stale job locks: other/);
    expect(existsSync(old)).toBe(false);

    const check = ws.db();
    try {
      expect(check.prepare("SELECT count(*) FROM job_locks WHERE job = 'other'").pluck().get()).toBe(0);
      const types = check
        .prepare("SELECT message FROM events WHERE type = 'doctor:repair'")
        .pluck()
        .all() as string[];
      expect(types.join("\n")).toContain("reclaim-locks");
      expect(types.join("\n")).toContain("prune-backups");
    } finally {
      check.close();
    }
  });
});
