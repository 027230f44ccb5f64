import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

// A vitest setup file: each test file runs with its own HOME and cache folder, inherited by every
// process it starts, so nothing a test runs writes into the real home.

const home = mkdtempSync(path.join(tmpdir(), "syncwarden-home-"));
mkdirSync(path.join(home, ".cache"));
process.env.HOME = home;
process.env.XDG_CACHE_HOME = path.join(home, ".cache");

afterAll(() => rmSync(home, { recursive: true, force: true }));
