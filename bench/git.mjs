// Section 3 helpers: a generated git repository of small text files, and the `git cat-file --batch` floor.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { cleanEnv, now, peakRssOfPid, runProcess } from "./lib.mjs";

/** A fixed identity and no user or system git config, so the repository is the same on every machine. */
export function gitEnv() {
  return cleanEnv({
    GIT_AUTHOR_NAME: "syncwarden bench",
    GIT_AUTHOR_EMAIL: "bench@example.invalid",
    GIT_AUTHOR_DATE: "1700000000 +0000",
    GIT_COMMITTER_NAME: "syncwarden bench",
    GIT_COMMITTER_EMAIL: "bench@example.invalid",
    GIT_COMMITTER_DATE: "1700000000 +0000",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
  });
}

async function git(repo, args, input) {
  const r = await runProcess("git", ["-C", repo, ...args], { env: gitEnv(), input });
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const WORDS = (
  "ledger plan checkpoint lease fence settle claim source sink enrich snapshot delta blob tree commit " +
  "retry backoff worker batch index search document chunk resume flaky mirror local store item phase job"
).split(" ");

/** A few lines of deterministic pseudo-random words: small, distinct text files (about 200–500 bytes). */
function fileText(i) {
  let x = (i + 1) * 2654435761;
  const next = () => {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    return x;
  };
  const lines = [`// file ${i}`];
  const n = 3 + (next() % 6);
  for (let l = 0; l < n; l++) {
    const words = [];
    const w = 5 + (next() % 8);
    for (let k = 0; k < w; k++) words.push(WORDS[next() % WORDS.length]);
    lines.push(words.join(" "));
  }
  return lines.join("\n") + "\n";
}

/** Creates a repository at `repo` with `n` small text files in one commit on main (via git fast-import). */
export async function makeRepo(repo, n) {
  await runProcess("git", ["init", "-q", "-b", "main", repo], { env: gitEnv() }).then((r) => {
    if (r.code !== 0) throw new Error(`git init failed: ${r.stderr}`);
  });
  const parts = [];
  for (let i = 0; i < n; i++) {
    const body = Buffer.from(fileText(i));
    parts.push(Buffer.from(`blob\nmark :${i + 1}\ndata ${body.length}\n`), body, Buffer.from("\n"));
  }
  const msg = `${n} files\n`;
  parts.push(
    Buffer.from(
      `commit refs/heads/main\nauthor syncwarden bench <bench@example.invalid> 1700000000 +0000\n` +
        `committer syncwarden bench <bench@example.invalid> 1700000000 +0000\ndata ${Buffer.byteLength(msg)}\n${msg}`,
    ),
  );
  const files = [];
  for (let i = 0; i < n; i++)
    files.push(`M 100644 :${i + 1} src/mod${String(i % 200).padStart(3, "0")}/file${i}.txt\n`);
  parts.push(Buffer.from(files.join("") + "\n"));
  await git(repo, ["fast-import", "--quiet"], Buffer.concat(parts));
  const head = (await git(repo, ["rev-parse", "HEAD"])).trim();
  return { head };
}

/** The blobs of HEAD: sha and size of each. */
export async function listBlobs(repo) {
  const out = await git(repo, ["ls-tree", "-r", "-l", "-z", "--full-tree", "HEAD"]);
  const blobs = [];
  for (const rec of out.split("\0")) {
    if (!rec) continue;
    const [meta] = rec.split("\t");
    const [, type, sha, size] = meta.split(/\s+/);
    if (type === "blob") blobs.push({ sha, size: Number(size) });
  }
  return blobs;
}

/**
 * The floor: one `git cat-file --batch` given every sha at once, timed until its whole output is read.
 * Its stdin stays open until then, so its peak RSS can be read from /proc before it exits.
 */
export function catFileFloor(repo, blobs) {
  // each answer is "<sha> blob <size>\n<content>\n"
  const expected = blobs.reduce((a, b) => a + b.sha.length + 6 + String(b.size).length + 1 + b.size + 1, 0);
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn("git", ["-C", repo, "cat-file", "--batch"], {
      env: gitEnv(),
      stdio: ["pipe", "pipe", "inherit"],
    });
    let got = 0;
    let done = false;
    let result;
    child.on("error", reject);
    child.stdout.on("data", (b) => {
      got += b.length;
      if (!done && got >= expected) {
        done = true;
        const ms = now() - t0;
        result = { ms, bytes: got, peakRssKiB: peakRssOfPid(child.pid) };
        child.stdin.end();
      }
    });
    child.on("close", (code) => {
      if (!done) reject(new Error(`git cat-file exited (${code}) after ${got} of ${expected} bytes`));
      else resolve(result);
    });
    child.stdin.write(blobs.map((b) => b.sha).join("\n") + "\n");
  });
}

/** syncwarden.yaml indexing `repo` with the git source into the embedded sqlite-docs sink. */
export function writeGitConfig(dir, repo) {
  const file = path.join(dir, "syncwarden.yaml");
  writeFileSync(
    file,
    [
      "version: 1",
      "state_dir: state",
      "sync:",
      "  max_workers: 4",
      "jobs:",
      "  index:",
      "    phases:",
      "      - name: files",
      "        source:",
      "          type: git",
      `          repo: ${JSON.stringify(repo)}`,
      "        sink:",
      "          type: sqlite-docs",
      "",
    ].join("\n"),
  );
  return file;
}
