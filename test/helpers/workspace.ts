import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir, hostname } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI = path.join(ROOT, "dist/cli/main.js");

const GIT_ENV = {
  GIT_AUTHOR_NAME: "test",
  GIT_AUTHOR_EMAIL: "test@example.invalid",
  GIT_COMMITTER_NAME: "test",
  GIT_COMMITTER_EMAIL: "test@example.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** A temp folder per test with a git repository in `repo/` and the config beside it. */
export class Workspace {
  readonly dir: string;
  readonly repo: string;

  constructor() {
    this.dir = mkdtempSync(path.join(tmpdir(), "syncwarden-test-"));
    this.repo = path.join(this.dir, "repo");
    mkdirSync(this.repo);
    this.git("init", "-q", "-b", "main");
  }

  get configFile(): string {
    return path.join(this.dir, "syncwarden.yaml");
  }

  get dbFile(): string {
    return path.join(this.dir, ".syncwarden", "state.db");
  }

  git(...args: string[]): string {
    return execFileSync("git", ["-C", this.repo, ...args], {
      env: { ...process.env, ...GIT_ENV },
      encoding: "utf8",
    }).trim();
  }

  /** Writes (or with null, deletes) files in the repo and commits them; returns the new HEAD. */
  commit(files: Record<string, string | Buffer | null>, message = "change"): string {
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(this.repo, name);
      if (content === null) rmSync(file);
      else {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, content);
      }
    }
    this.git("add", "-A");
    this.git("commit", "-q", "--allow-empty", "-m", message);
    return this.head();
  }

  head(): string {
    return this.git("rev-parse", "HEAD");
  }

  write(name: string, content: string): string {
    const file = path.join(this.dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    return file;
  }

  /** Opens the state database read-only (the CLI writes it; tests only look). */
  db(): Database.Database {
    return new Database(this.dbFile, { readonly: true, fileMustExist: true });
  }

  /**
   * Plants a stale lease on `job`: a lock row held (for 10 more minutes) by a process of this host that
   * has already exited, as a runner killed with SIGKILL leaves behind.
   */
  async plantDeadLock(job: string): Promise<number> {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((r) => child.on("exit", r));
    const pid = child.pid!;
    const db = new Database(this.dbFile);
    try {
      const now = Date.now();
      db.prepare("INSERT INTO job_locks VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(
        job,
        `${hostname()}:${pid}:deadbeef`,
        pid,
        hostname(),
        now,
        now,
        now + 600_000,
        1,
      );
    } finally {
      db.close();
    }
    return pid;
  }

  /** Damages the state database: every page into the main file, then 6 pages in its middle overwritten. */
  corruptDatabase(): void {
    const db = new Database(this.dbFile);
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.close();
    const size = statSync(this.dbFile).size;
    if (size <= 16 * 4096)
      throw new Error(`state.db holds only ${size} bytes: too small to damage in its middle`);
    const fd = openSync(this.dbFile, "r+");
    // the middle half of the file: whatever tables lie there (empty ones too), the ledger's rows are hit
    const pages = Math.floor(size / 4096);
    const garbage = Buffer.alloc(4096 * Math.max(6, Math.floor(pages / 2)), 0xa5);
    writeSync(fd, garbage, 0, garbage.length, Math.floor(pages / 4) * 4096);
    closeSync(fd);
  }

  /** The phase's main checkpoint; null before there is one (or before the ledger was even created). */
  checkpoint(job: string, phase: string): string | null {
    if (!existsSync(this.dbFile)) return null;
    const db = this.db();
    try {
      if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'").get())
        return null;
      const row = db
        .prepare<[string, string], { value: string }>(
          "SELECT value FROM checkpoints WHERE job = ? AND phase = ? AND scope = ''",
        )
        .get(job, phase);
      return row?.value ?? null;
    } finally {
      db.close();
    }
  }

  /** key → content of every document of a job, read straight from the store. */
  documents(job: string, collection?: string): Map<string, string> {
    const db = this.db();
    try {
      const rows = db
        .prepare<[string, string | null, string | null], { key: string; content: string }>(
          `SELECT d.key, group_concat(c.content, '') AS content
           FROM documents d JOIN (SELECT * FROM chunks ORDER BY document_id, ord) c ON c.document_id = d.id
           WHERE d.job = ? AND (? IS NULL OR d.collection = ?) GROUP BY d.id`,
        )
        .all(job, collection ?? null, collection ?? null);
      return new Map(rows.map((r) => [r.key, r.content]));
    } finally {
      db.close();
    }
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (`node dist/cli/main.js …`) as a real child process in the workspace. */
export function runCli(
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string> },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A git-indexing config: one job `code` with one phase `files` into sqlite-docs, extra YAML appended to the phase. */
export function gitConfig(
  opts: { sync?: Record<string, unknown>; sourceExtra?: string; sink?: string } = {},
): string {
  const sync = { max_retries: 2, retry_wait_seconds: 0, max_workers: 4, ...opts.sync };
  return `sync: ${JSON.stringify(sync)}
jobs:
  code:
    phases:
      - name: files
        source: { type: git, repo: ./repo${opts.sourceExtra ? `, ${opts.sourceExtra}` : ""} }
        sink: ${opts.sink ?? "{ type: sqlite-docs, table: code }"}
`;
}
