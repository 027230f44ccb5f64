// Section 6 of the bench: `syncwarden replicate` beside unison and rclone bisync (Debian's packages),
// each on its own copy of the same generated tree, in the same run:
//   (a) first sync of a tree of small files into an empty folder,
//   (b) a rerun with no changes,
//   (c) a rerun after the same files changed on each side (disjoint sets, so no conflicts).
// Every run is a fresh process measured by bench/maxrss.py (wall time, peak RSS). After each step
// both sides of every tool are hashed and must be identical, and at the end every tool's tree must
// hold the same contents.
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  BENCH_DIR,
  CLI,
  cleanEnv,
  lastJsonLine,
  log,
  median,
  removeDir,
  runNode,
  runProcess,
  scaled,
  tempDir,
} from "./lib.mjs";

const MARKER = ".syncwarden-replica";
const PER_DIR = 100;

/** `n` small files (10–200 bytes) in folders of 100: d000/f00000.txt … */
function generate(root, n) {
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, `d${String(Math.floor(i / PER_DIR)).padStart(3, "0")}`);
    if (i % PER_DIR === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `f${String(i).padStart(5, "0")}.txt`), `file ${i}\n`.repeat(1 + (i % 20)));
  }
}

const fileOf = (root, i) =>
  path.join(
    root,
    `d${String(Math.floor(i / PER_DIR)).padStart(3, "0")}`,
    `f${String(i).padStart(5, "0")}.txt`,
  );

/**
 * Round r changes `count` files on each side: the files p(j) = (j·7919 + r·31) mod n for j < 2·count,
 * even j on side a, odd j on side b (7919 is prime to n, so the two sets never meet: no conflicts).
 */
export function change(pair, n, count, round) {
  for (let j = 0; j < 2 * count; j++) {
    const i = (j * 7919 + round * 31) % n;
    const side = j % 2 === 0 ? "a" : "b";
    appendFileSync(fileOf(pair[side], i), `changed in round ${round} on ${side}\n`);
  }
}

/** sha256 over every file's relative path and content (the marker excluded), and the file count. */
function treeHash(root) {
  const entries = [];
  const walk = (dir, rel) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      if (d.isDirectory()) walk(path.join(dir, d.name), r);
      else if (d.isFile() && r !== MARKER)
        entries.push(
          `${r}\0${createHash("sha256")
            .update(readFileSync(path.join(dir, d.name)))
            .digest("hex")}`,
        );
    }
  };
  walk(root, "");
  entries.sort();
  return { files: entries.length, sha256: createHash("sha256").update(entries.join("\n")).digest("hex") };
}

async function available(cmd, args) {
  try {
    const r = await runProcess(cmd, args);
    return r.code === 0 ? (r.stdout + r.stderr).split("\n")[0].trim() : null;
  } catch {
    return null;
  }
}

/** The contenders: how each is set up in its folder and how each run is invoked. */
function contenders(versions) {
  const all = [
    {
      id: "syncwarden",
      shown: "syncwarden replicate -c syncwarden.yaml (replica folder ./a, target ./b)",
      setup(dir) {
        writeFileSync(
          path.join(dir, "syncwarden.yaml"),
          "state_dir: ./state\nreplicas:\n  bench:\n    folder: ./a\n    targets:\n      - { name: b, path: ./b }\n",
        );
      },
      // the bin, run as a user runs it (its `#!/usr/bin/env node` line starts Node)
      command: (dir) => [CLI, "replicate", "-c", path.join(dir, "syncwarden.yaml")],
      env: () => cleanEnv(),
    },
    {
      id: "unison",
      version: versions.unison,
      shown: "unison a b -batch -times -silent",
      setup(dir) {
        mkdirSync(path.join(dir, "unison-home"));
      },
      command: (dir) => ["unison", path.join(dir, "a"), path.join(dir, "b"), "-batch", "-times", "-silent"],
      env: (dir) => cleanEnv({ UNISON: path.join(dir, "unison-home") }),
    },
    {
      id: "rclone",
      version: versions.rclone,
      shown: "rclone bisync a b --workdir W --ignore-checksum (--resync on the first run)",
      setup(dir) {
        mkdirSync(path.join(dir, "rclone-work"));
      },
      command: (dir, first) => [
        "rclone",
        "bisync",
        path.join(dir, "a"),
        path.join(dir, "b"),
        "--workdir",
        path.join(dir, "rclone-work"),
        "--ignore-checksum",
        ...(first ? ["--resync"] : []),
      ],
      env: () => cleanEnv({ RCLONE_CONFIG: "/dev/null" }),
    },
  ];
  return all.filter((c) => c.id === "syncwarden" || c.version);
}

/** Lets the previous run's writeback finish, so each run starts from the same quiet disk. */
async function settle() {
  await runProcess("sync", []);
  await new Promise((r) => setTimeout(r, 500));
}

async function timed(c, dir, first = false) {
  await settle();
  const [cmd, ...args] = c.command(dir, first);
  const r = await runProcess("python3", [path.join(BENCH_DIR, "maxrss.py"), cmd, ...args], {
    env: c.env(dir),
  });
  if (r.code !== 0) throw new Error(`maxrss.py failed (exit ${r.code}):\n${r.stderr.slice(-2000)}`);
  const m = JSON.parse(r.stdout.trim().split("\n").pop());
  if (m.code !== 0) throw new Error(`${c.id} exited ${m.code}:\n${m.stderr}\n${m.stdout}`);
  return { wallMs: m.wallMs, peakRssKiB: m.peakRssKiB };
}

function verify(c, dir, step) {
  const a = treeHash(path.join(dir, "a"));
  const b = treeHash(path.join(dir, "b"));
  if (a.sha256 !== b.sha256)
    throw new Error(`${c.id} after ${step}: the two sides differ (${a.files} vs ${b.files} files)`);
  return a;
}

export async function benchReplicas(options = {}) {
  const files = options.files ?? scaled(20_000);
  const changes = Math.min(100, Math.floor(files / 20));
  const reruns = options.reruns ?? 5;
  const changeRounds = options.changeRounds ?? 5;
  const versions = {
    unison: await available("unison", ["-version"]),
    rclone: await available("rclone", ["version"]),
  };
  const tools = contenders(versions);
  const missing = ["unison", "rclone"].filter((t) => !versions[t]);
  if (missing.length > 0)
    log(
      `[6/6] replicas: ${missing.join(" and ")} not installed (apt-get install -y rclone unison); measuring without`,
    );
  const root = tempDir("replicas");
  try {
    log(
      `[6/6] replicas: generating ${files.toLocaleString("en-US")} small files for ${tools.map((t) => t.id).join(", ")}`,
    );
    const dirs = {};
    for (const t of tools) {
      const dir = path.join(root, t.id);
      mkdirSync(path.join(dir, "b"), { recursive: true });
      generate(path.join(dir, "a"), files);
      t.setup(dir);
      dirs[t.id] = dir;
    }
    const out = Object.fromEntries(tools.map((t) => [t.id, { first: null, noChange: [], changed: [] }]));

    for (const t of tools) {
      const r = await timed(t, dirs[t.id], true);
      const tree = verify(t, dirs[t.id], "the first sync");
      if (tree.files !== files)
        throw new Error(`${t.id}: ${tree.files} files after the first sync, expected ${files}`);
      out[t.id].first = r;
      log(
        `      (a) first sync, ${t.id}: ${(r.wallMs / 1000).toFixed(2)} s, ${Math.round(r.peakRssKiB / 1024)} MiB`,
      );
    }
    for (let i = 0; i < reruns; i++)
      for (const t of tools) out[t.id].noChange.push(await timed(t, dirs[t.id]));
    for (const t of tools) {
      verify(t, dirs[t.id], "the no-change reruns");
      log(
        `      (b) no-change rerun, ${t.id}: ${median(out[t.id].noChange.map((r) => r.wallMs)).toFixed(0)} ms (median of ${reruns})`,
      );
    }
    for (let round = 1; round <= changeRounds; round++) {
      for (const t of tools)
        change({ a: path.join(dirs[t.id], "a"), b: path.join(dirs[t.id], "b") }, files, changes, round);
      for (const t of tools) {
        out[t.id].changed.push(await timed(t, dirs[t.id]));
        verify(t, dirs[t.id], `change round ${round}`);
      }
    }
    for (const t of tools)
      log(
        `      (c) ${changes} changes per side, ${t.id}: ${median(out[t.id].changed.map((r) => r.wallMs)).toFixed(0)} ms (median of ${changeRounds})`,
      );
    const finals = tools.map((t) => treeHash(path.join(dirs[t.id], "a")).sha256);
    if (new Set(finals).size !== 1) throw new Error("the tools' trees differ from one another at the end");

    // ours once more, inside one long-lived process (as the daemon runs it): start-up paid once
    const ours = tools.find((t) => t.id === "syncwarden");
    const inproc = await runNode([
      path.join(BENCH_DIR, "replicas-inproc.mjs"),
      path.join(dirs.syncwarden, "syncwarden.yaml"),
      String(files),
      String(changes),
      String(reruns),
      String(changeRounds),
      String(changeRounds + 1),
    ]);
    if (inproc.code !== 0) throw new Error(`replicas-inproc.mjs failed:\n${inproc.stderr.slice(-2000)}`);
    const inProcess = lastJsonLine(inproc.stdout, "replicas-inproc.mjs");
    verify(ours, dirs.syncwarden, "the in-process rounds");
    log(
      `      in process: no change ${median(inProcess.noChange).toFixed(0)} ms, ${changes} changes per side ${median(inProcess.changed).toFixed(0)} ms`,
    );

    const summary = (runs) => ({
      wallMs: median(runs.map((r) => r.wallMs)),
      rounds: runs.map((r) => r.wallMs),
      peakRssKiB: Math.max(...runs.map((r) => r.peakRssKiB)),
    });
    const results = {};
    for (const t of tools) {
      const o = out[t.id];
      results[t.id] = {
        version: t.version ?? null,
        first: { ...o.first, itemsPerSecond: files / (o.first.wallMs / 1000) },
        noChange: summary(o.noChange),
        changed: summary(o.changed),
      };
    }
    results.syncwarden.inProcess = {
      noChange: { ms: median(inProcess.noChange), rounds: inProcess.noChange },
      changed: { ms: median(inProcess.changed), rounds: inProcess.changed },
    };
    return {
      files,
      changesPerSide: changes,
      reruns,
      changeRounds,
      verified: "both sides identical after every step; every tool's tree identical at the end",
      commands: Object.fromEntries(tools.map((t) => [t.id, t.shown])),
      tools: results,
      missing,
    };
  } finally {
    removeDir(root);
  }
}
