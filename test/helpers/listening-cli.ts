import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { CLI } from "./workspace.js";

/** Generous: the CLI prints its address within a second; a loaded CI machine may be slower. */
const ADDRESS_MS = 20_000;

export interface ListeningCli {
  child: ChildProcessWithoutNullStreams;
  /** Everything the process wrote on stderr so far. */
  stderr: () => string;
  /** The page's address, as printed: http://127.0.0.1:PORT/ */
  url: string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** Starts the CLI (`serve`, `daemon --web-port`) and waits for the line naming the page's address. */
export async function startListening(
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<ListeningCli> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env } });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const deadline = Date.now() + ADDRESS_MS;
  for (;;) {
    const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr);
    if (m) return { child, stderr: () => stderr, url: m[1]!, exited };
    if (Date.now() > deadline || child.exitCode !== null) {
      if (child.exitCode === null) child.kill("SIGKILL");
      throw new Error(`no address printed:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
