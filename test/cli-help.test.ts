import { readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT, runCli, Workspace } from "./helpers/workspace.js";

/** The environment variables a command's help lists (the lines under "Environment:"). */
function listedVariables(help: string): string[] {
  const section = help.split("\nEnvironment:\n")[1]?.split("\n\n")[0] ?? "";
  return section
    .split("\n")
    .map((l) => /^\s+([A-Z][A-Z0-9_]+)\s/.exec(l)?.[1])
    .filter((v): v is string => v !== undefined);
}

describe("command help", () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("14.15 --help of run, replicate, mcp, daemon and doctor lists the exit codes and the environment variables each reads", async () => {
    ws = new Workspace();
    const expected: Record<string, { vars: string[]; codes: string[] }> = {
      run: {
        vars: [
          "SYNCWARDEN_CONFIG",
          "SYNCWARDEN_STATE_DIR",
          "SYNC_MAX_WORKERS",
          "RETRY_MAX_ATTEMPTS",
          "RESILIENCE_ENABLED",
        ],
        codes: ["0", "1", "2", "3", "75", "78", "130"],
      },
      replicate: {
        vars: ["SYNCWARDEN_CONFIG", "SYNCWARDEN_STATE_DIR"],
        codes: ["0", "2", "3", "75", "78", "130"],
      },
      mcp: {
        vars: ["SYNCWARDEN_CONFIG", "SYNCWARDEN_MCP_TOKEN", "SYNC_MAX_WORKERS"],
        codes: ["0", "2", "78", "130"],
      },
      daemon: {
        vars: ["SYNCWARDEN_CONFIG", "SYNC_MAX_WORKERS", "SYNCWARDEN_BACKUP_RETENTION_DAYS"],
        codes: ["0", "3", "75", "78", "130"],
      },
      doctor: {
        vars: ["SYNCWARDEN_CONFIG", "SYNCWARDEN_DOCTOR_DISK_WARN_GB", "SYNCWARDEN_DOCTOR_WAL_WARN_MB"],
        codes: ["0", "1", "2", "78"],
      },
    };
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    for (const [command, { vars, codes }] of Object.entries(expected)) {
      const help = await runCli([command, "--help"], { cwd: ws.dir });
      expect(help.code, `${command} --help: ${help.stderr}`).toBe(0);
      const listed = listedVariables(help.stdout);
      for (const v of vars) expect(listed, `${command} --help lists ${v}`).toContain(v);
      const exits = help.stdout.split("\nExit codes:\n")[1] ?? "";
      for (const code of codes)
        expect(exits, `${command} --help: exit ${code}`).toMatch(new RegExp(`^  ${code} +\\S`, "m"));
      expect(exits, `${command} --help: exit 78 and refused credentials`).toMatch(/^ {2}78 +\S/m);
      // the README documents every variable the help names
      for (const v of listed) expect(readme, `README.md names ${v} (from ${command} --help)`).toContain(v);
    }
  });
});
