import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gitConfig, runCli, Workspace, type CliResult } from "./helpers/workspace.js";

export interface TargetYaml {
  name?: string;
  path?: string;
  extra?: string;
}

/** A workspace with `local/` (the replica folder) and `remote/` (its target), and a config naming them. */
export class ReplicaWorkspace extends Workspace {
  readonly local: string;
  readonly remote: string;

  constructor(targets: TargetYaml[] = [{}], folder: string | null = "./local") {
    super();
    this.local = path.join(this.dir, "local");
    this.remote = path.join(this.dir, "remote");
    mkdirSync(this.local);
    mkdirSync(this.remote);
    const lines = targets.map(
      (t) =>
        `      - { name: ${t.name ?? "drive"}, path: ${t.path ?? "./remote"}${t.extra ? `, ${t.extra}` : ""} }`,
    );
    writeFileSync(
      this.configFile,
      `${gitConfig()}replicas:\n  notes:\n${folder === null ? "" : `    folder: ${folder}\n`}    targets:\n${lines.join("\n")}\n`,
    );
  }

  put(root: string, rel: string, content: string, mtimeSec?: number): string {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    if (mtimeSec !== undefined) utimesSync(file, mtimeSec, mtimeSec);
    return file;
  }

  del(root: string, rel: string): void {
    rmSync(path.join(root, rel));
  }

  /** rel path → content of every file under root (marker excluded). */
  tree(root: string): Record<string, string> {
    const out: Record<string, string> = {};
    if (!existsSync(root)) return out;
    for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || e.name === ".syncwarden-replica") continue;
      const abs = path.join(e.parentPath, e.name);
      out[path.relative(root, abs).split(path.sep).join("/")] = readFileSync(abs, "utf8");
    }
    return out;
  }

  /** Every file under the state folder's backups/, as rel-inside-its-timestamp-folder → content. */
  backups(): Record<string, string> {
    const dir = path.join(this.dir, ".syncwarden", "backups");
    const out: Record<string, string> = {};
    if (!existsSync(dir)) return out;
    for (const stamp of readdirSync(dir)) Object.assign(out, this.tree(path.join(dir, stamp)));
    return out;
  }

  cli(args: readonly string[]): Promise<CliResult> {
    return runCli(args, { cwd: this.dir });
  }

  async replicate(...args: string[]): Promise<{ code: number | null; json: ReplicateJson; stderr: string }> {
    const r = await this.cli(["replicate", ...args, "--json"]);
    let json: ReplicateJson;
    try {
      json = JSON.parse(r.stdout) as ReplicateJson;
    } catch {
      throw new Error(`replicate printed no JSON (exit ${String(r.code)}): ${r.stdout}\n${r.stderr}`);
    }
    return { code: r.code, json, stderr: r.stderr };
  }
}

export interface TargetJson {
  replica: string;
  target: string;
  status: string;
  message?: string;
  initialised?: boolean;
  copied: number;
  deleted: number;
  conflicts: { path: string; winner: string; loser: string; keptAs?: string; backup: string }[];
  skipped: { path: string; reason: string }[];
  errors: { path: string; message: string }[];
  collisions: string[][];
  symlinksOutside: string[];
  plan?: { kind: string; path: string }[];
  snapshot?: string;
}

export interface ReplicateJson {
  targets: TargetJson[];
}
