import { accessSync, constants, readFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, runCli, type CliResult } from "./helpers/workspace.js";
import { ReplicaWorkspace } from "./replicas-workspace.js";

// The bin is a sh launcher in front of the same file read as a module: `replicate` and `replicas` start
// Node without NODE_EXTRA_CA_CERTS (they open no connection), every other command keeps it. Node
// warns at start when that variable names a file it cannot load, which shows whether it was passed.

let ws: ReplicaWorkspace | undefined;
afterEach(() => {
  ws?.cleanup();
  ws = undefined;
});

const WARNING = /Ignoring extra certs from/;

/** The bin run as a command (its shebang), with NODE_EXTRA_CA_CERTS naming a file that is not there. */
function runBin(args: readonly string[], cwd: string): Promise<CliResult> {
  return runCli(args, {
    cwd,
    asCommand: true,
    env: {
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
      NODE_EXTRA_CA_CERTS: path.join(cwd, "missing-ca.pem"),
    },
  });
}

describe("the syncwarden launcher", () => {
  it("is an executable sh script whose exec line Node reads as a string and a comment", () => {
    accessSync(CLI, constants.X_OK);
    const [shebang, exec] = readFileSync(CLI, "utf8").split("\n");
    expect(shebang).toBe("#!/bin/sh");
    expect(exec).toMatch(/^":" \/\/; .*exec node "\$0" "\$@"$/);
  });

  it("runs replicate without NODE_EXTRA_CA_CERTS, and carries the files", async () => {
    ws = new ReplicaWorkspace();
    ws.put(ws.local, "notes/a.md", "alpha");
    ws.put(ws.remote, "b.md", "beta");
    const r = await runBin(["replicate", "-c", ws.configFile], ws.dir);
    expect(r.stderr).not.toMatch(WARNING);
    expect(r.code).toBe(0);
    expect(ws.tree(ws.remote)).toEqual({ "notes/a.md": "alpha", "b.md": "beta" });
    expect(ws.tree(ws.local)).toEqual(ws.tree(ws.remote));
    const v = await runBin(["replicas", "verify", "-c", ws.configFile], ws.dir);
    expect(v.stderr).not.toMatch(WARNING);
    expect(v.code).toBe(0);
  });

  it("passes NODE_EXTRA_CA_CERTS on for every other command, and for replicate started through node", async () => {
    ws = new ReplicaWorkspace();
    const status = await runBin(["status", "-c", ws.configFile], ws.dir);
    expect(status.code).toBe(0);
    expect(status.stderr).toMatch(WARNING);
    // `-c FILE replicate`: the command is not the first argument, so the launcher keeps the variable
    const late = await runBin(["-c", ws.configFile, "replicate"], ws.dir);
    expect(late.code).toBe(0);
    expect(late.stderr).toMatch(WARNING);
    const viaNode = await runCli(["replicate", "-c", ws.configFile], {
      cwd: ws.dir,
      env: { NODE_EXTRA_CA_CERTS: path.join(ws.dir, "missing-ca.pem") },
    });
    expect(viaNode.code).toBe(0);
    expect(viaNode.stderr).toMatch(WARNING);
  });
});
