#!/usr/bin/env node
import { main } from "./program.js";

main(process.argv).catch((e: unknown) => {
  process.stderr.write(
    `syncwarden: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
});
