import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { SyncError } from "../../errors.js";

/** Runs git and returns stdout; a failure carries git's stderr. */
export function git(repo: string, args: readonly string[], signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", ["-C", repo, ...args], { stdio: ["ignore", "pipe", "pipe"], signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else
        reject(
          new SyncError(`git ${args[0] ?? ""} failed in ${repo}: ${Buffer.concat(err).toString().trim()}`, {
            code: "GIT",
            errorClass: "permanent",
          }),
        );
    });
  });
}

/** NUL-separated fields of git's `-z` output. */
export function splitNul(buf: Buffer): string[] {
  const parts = buf.toString("utf8").split("\0");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}

interface Pending {
  resolve: (v: { type: string; content: Buffer } | undefined) => void;
  reject: (e: Error) => void;
}

/** One long-lived `git cat-file --batch`: requests are written in order and answered in order. */
export class CatFile {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly queue: Pending[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: { type: string; size: number } | undefined;

  constructor(private readonly repo: string) {}

  read(sha: string): Promise<{ type: string; content: Buffer } | undefined> {
    const child = this.start();
    return new Promise((resolve, reject) => {
      this.queue.push({ resolve, reject });
      child.stdin.write(`${sha}\n`);
    });
  }

  close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("close", () => resolve());
      child.stdin.end();
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn("git", ["-C", this.repo, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "pipe"] });
    child.stdout.on("data", (b: Buffer) => {
      this.chunks.push(b);
      this.buffered += b.length;
      this.drain();
    });
    const fail = (e: Error): void => {
      for (const p of this.queue.splice(0)) p.reject(e);
      if (this.child === child) this.child = undefined;
    };
    child.on("error", fail);
    child.on("close", (code) => {
      if (this.queue.length > 0)
        fail(new Error(`git cat-file exited (${code ?? "signal"}) with requests pending`));
    });
    this.child = child;
    return child;
  }

  private drain(): void {
    for (;;) {
      if (this.buffered === 0) return;
      if (this.header && this.buffered < this.header.size + 1) return;
      const buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.chunks = [buf];
      if (!this.header) {
        const nl = buf.indexOf(10);
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString();
        this.take(nl + 1);
        const [, type, size] = line.split(" ");
        if (type === "missing" || size === undefined || type === undefined) {
          this.queue.shift()?.resolve(undefined);
          continue;
        }
        this.header = { type, size: Number(size) };
        continue;
      }
      if (this.buffered < this.header.size + 1) return;
      const content = Buffer.from(buf.subarray(0, this.header.size));
      const type = this.header.type;
      this.take(this.header.size + 1);
      this.header = undefined;
      this.queue.shift()?.resolve({ type, content });
    }
  }

  private take(n: number): void {
    const buf = this.chunks[0]!;
    this.chunks = n >= buf.length ? [] : [buf.subarray(n)];
    this.buffered -= n;
  }
}
