#!/usr/bin/env node
import { redact } from "../config/secrets.js";
import { errorMessage } from "../errors.js";
import { main } from "./program.js";

// A reader that goes away (`syncwarden search x | head`): what is left of stdout is dropped, and the
// command, a sync run above all, goes on to its end and its exit code.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE" && e.code !== "ERR_STREAM_DESTROYED") throw e;
});

main(process.argv).catch((e: unknown) => {
  const stack = (e as { stack?: unknown } | null)?.stack;
  process.stderr.write(
    `syncwarden: internal error: ${redact(typeof stack === "string" ? stack : errorMessage(e))}\n`,
  );
  process.exitCode = 1;
});
