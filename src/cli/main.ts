#!/usr/bin/env node
import { main } from "./program.js";

// More threads for file I/O than libuv's default 4: replicate keeps 16 copies (each ending in an
// fsync) in flight. Read when the pool first starts, which no import above does.
process.env.UV_THREADPOOL_SIZE ??= "16";

main(process.argv).catch((e: unknown) => {
  process.stderr.write(
    `syncwarden: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
});
