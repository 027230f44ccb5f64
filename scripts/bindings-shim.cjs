// Stands in for the `bindings` package inside the bundled CLI (scripts/bundle-cli.mjs): better-sqlite3's
// own JavaScript is bundled, and its native addon is loaded from the installed package directly instead
// of `bindings` probing a dozen paths from the caller's stack. Falls back to `bindings` itself.
"use strict";
const path = require("node:path");
const load = require; // a runtime require (the bundle's, from node_modules), not one for esbuild to follow

module.exports = function bindings(name) {
  try {
    return load(`better-sqlite3/build/Release/${name}`);
  } catch {
    const root = path.dirname(load.resolve("better-sqlite3/package.json"));
    return load("bindings")({ bindings: name, module_root: root });
  }
};
