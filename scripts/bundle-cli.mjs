// Bundles the CLI (after tsc) into dist/cli/bundle/: one module per command (code splitting), so a
// command loads its own code in a handful of files instead of resolving and compiling dozens of
// modules at every start. better-sqlite3's JavaScript is bundled too (its native addon is loaded from
// node_modules, see bindings-shim.cjs); pino (worker-thread transports found by path) and the MCP SDK
// stay in node_modules.
import { chmodSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/** better-sqlite3's `require("bindings")` → scripts/bindings-shim.cjs (see there). */
const bindingsShim = {
  name: "bindings-shim",
  setup(b) {
    const shim = fileURLToPath(new URL("./bindings-shim.cjs", import.meta.url));
    b.onResolve({ filter: /^bindings$/ }, () => ({ path: shim }));
  },
};

rmSync("dist/cli/bundle", { recursive: true, force: true }); // no chunks of an earlier build left behind

await build({
  entryPoints: ["dist/cli/main.js"],
  outdir: "dist/cli/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["pino", "@modelcontextprotocol/sdk"],
  plugins: [bindingsShim],
  // CommonJS dependencies bundled into ESM still call require() for Node's own modules
  banner: {
    js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);',
  },
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
});

// The entry is also a POSIX sh script: run as a command (the bin), sh reads the first two lines and
// execs Node on this same file, which Node reads as a module (line 2 is a string and a comment).
// `replicate` and `replicas` open no network connection, so they start Node without
// NODE_EXTRA_CA_CERTS: Node 20 parses that bundle, and its own root store with it, before any script
// runs (about 85 ms of a 120 ms start on a 2-core VM). Every other command keeps it.
const LAUNCHER = [
  "#!/bin/sh",
  '":" //; case "$1" in replicate|replicas) unset NODE_EXTRA_CA_CERTS;; esac; exec node "$0" "$@"',
];
const entry = "dist/cli/bundle/main.js";
const body = readFileSync(entry, "utf8").replace(/^#!.*\n/, "");
writeFileSync(entry, `${LAUNCHER.join("\n")}\n${body}`);
chmodSync(entry, 0o755);
