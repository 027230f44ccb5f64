#!/usr/bin/env node
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
