/**
 * One long-lived `git cat-file --batch` per repository: reads objects by name without a process per
 * object. Requests are pipelined (written at once, answered in order).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";

export interface GitObject {
  type: string;
  content: Buffer;
}

interface Pending {
  resolve: (o: GitObject | undefined) => void;
  reject: (e: Error) => void;
}

const NEWLINE = 0x0a;

export class CatFileBatch {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending: Pending[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private closed = false;

  constructor(private readonly dir: string) {}

  /** The object `name` names (a sha, or any revision expression), or undefined when there is none. */
  read(name: string): Promise<GitObject | undefined> {
    if (this.closed) return Promise.reject(new Error("cat-file: closed"));
    if (/[\n\r]/.test(name)) return Promise.resolve(undefined);
    const child = this.start();
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      child.stdin.write(`${name}\n`);
    });
  }

  close(): void {
    this.closed = true;
    this.stop(new Error("cat-file: closed"));
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn("git", ["-C", this.dir, "cat-file", "--batch"], { stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    this.buf = Buffer.alloc(0);
    child.stdout.on("data", (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      this.drain();
    });
    child.stderr.resume();
    child.stdin.on("error", () => undefined); // reported by 'exit' below
    const onEnd = (why: string): void => {
      if (this.child === child) this.stop(new Error(`cat-file: ${why}`));
    };
    child.on("error", (e) => onEnd(e.message));
    child.on("exit", (code, signal) => onEnd(`exited (${signal ?? code})`));
    return child;
  }

  /** Fails what is pending; the next read starts a new process. */
  private stop(error: Error): void {
    const child = this.child;
    this.child = undefined;
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) p.reject(error);
    if (child) {
      child.stdin.end();
      child.kill();
    }
  }

  /** Answers pending reads from the buffered output, in order. */
  private drain(): void {
    for (;;) {
      const next = this.pending[0];
      if (!next) return;
      const eol = this.buf.indexOf(NEWLINE);
      if (eol < 0) return;
      const header = this.buf.toString("utf8", 0, eol);
      if (/ (missing|ambiguous)$/.test(header)) {
        this.buf = this.buf.subarray(eol + 1);
        this.pending.shift();
        next.resolve(undefined);
        continue;
      }
      const m = /^[0-9a-f]+ ([a-z]+) (\d+)$/.exec(header);
      if (!m) {
        this.stop(new Error(`cat-file: unexpected output ${JSON.stringify(header.slice(0, 80))}`));
        return;
      }
      const size = Number(m[2]);
      const end = eol + 1 + size;
      if (this.buf.length < end + 1) return; // content and its trailing newline not all here yet
      const content = Buffer.from(this.buf.subarray(eol + 1, end));
      this.buf = this.buf.subarray(end + 1);
      this.pending.shift();
      next.resolve({ type: m[1]!, content });
    }
  }
}
