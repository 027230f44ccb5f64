#!/usr/bin/env node
import { prefetchWalk } from "../replicas/early-scan.js";

// More threads for file I/O than libuv's default 4: replicate keeps 16 copies (each ending in an
// fsync) in flight. Read when the pool first starts, which nothing before this line does.
process.env.UV_THREADPOOL_SIZE ??= "16";

// A `replicate` run with this command line before: its walk starts now, while the rest loads (see
// early-scan.ts). Only this module and the walk's own are loaded yet.
prefetchWalk(process.argv);

// A reader that goes away (`syncwarden search x | head`): what is left of stdout is dropped, and the
// command, a sync run above all, goes on to its end and its exit code.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") throw e;
});

const { main } = await import("./program.js");

main(process.argv).catch((e: unknown) => {
  process.stderr.write(
    `syncwarden: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
});
