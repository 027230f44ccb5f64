// Bundles the CLI (after tsc) into dist/cli/bundle/: one module per command (code splitting), so a
// command loads its own code in a handful of files instead of resolving and compiling dozens of
// modules at every start. better-sqlite3 (native), pino (worker-thread transports found by path) and
// the MCP SDK stay in node_modules.
import { build } from "esbuild";

await build({
  entryPoints: ["dist/cli/main.js"],
  outdir: "dist/cli/bundle",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["better-sqlite3", "pino", "@modelcontextprotocol/sdk"],
  // CommonJS dependencies bundled into ESM still call require() for Node's own modules
  banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  logLevel: "warning",
});
