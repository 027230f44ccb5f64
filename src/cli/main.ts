#!/usr/bin/env node
// A `replicate` run with this command line before: its walk starts now, while the rest loads (see
// early-scan.ts). Only the walk's own modules are loaded for it, and none for other commands (the
// argument is a hint, not a parse: the walk is keyed by the whole command line).
if (process.argv.slice(2).includes("replicate"))
  (await import("../replicas/early-scan.js")).prefetchWalk(process.argv);

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
