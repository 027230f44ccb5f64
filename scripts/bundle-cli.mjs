// Bundles the CLI (after tsc) into dist/cli/bundle/: one module per command (code splitting), so a
// command loads its own code in a handful of files instead of resolving and compiling dozens of
// modules at every start. better-sqlite3's JavaScript is bundled too (its native addon is loaded from
// node_modules, see bindings-shim.cjs); pino (worker-thread transports found by path) and the MCP SDK
// stay in node_modules.
import { rmSync } from "node:fs";
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
