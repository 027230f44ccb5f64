// Section 9 helpers: the repository the fake GitHub serves (bench/git.mjs's generator: N small text files in
// 200 folders, one commit), and a second commit that changes some of its files (one `git fast-import`).
import { gitEnv, makeRepo } from "./git.mjs";
import { runProcess } from "./lib.mjs";

export { makeRepo };

async function git(repo, args, input) {
  const r = await runProcess("git", ["-C", repo, ...args], { env: gitEnv(), input });
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** The path makeRepo gives file i. */
export function filePath(i) {
  return `src/mod${String(i % 200).padStart(3, "0")}/file${i}.txt`;
}

/**
 * Commits new content for `count` of the `n` files on main (spread over the folders: every n/count-th file),
 * as one commit on top of HEAD. `round` makes each call's content distinct. Returns the new head.
 */
export async function changeFiles(repo, n, count, round = 1) {
  const head = (await git(repo, ["rev-parse", "HEAD"])).trim();
  const step = Math.max(1, Math.floor(n / count));
  const msg = `change ${count} files (round ${round})\n`;
  const t = 1700000000 + round * 60;
  const parts = [
    `commit refs/heads/main\n`,
    `author syncwarden bench <bench@example.invalid> ${t} +0000\n`,
    `committer syncwarden bench <bench@example.invalid> ${t} +0000\n`,
    `data ${Buffer.byteLength(msg)}\n${msg}`,
    `from ${head}\n`,
  ];
  for (let k = 0; k < count; k++) {
    const i = (k * step) % n;
    const body = `// file ${i}, changed in round ${round}\nledger plan checkpoint ${k}\n`;
    parts.push(`M 100644 inline ${filePath(i)}\ndata ${Buffer.byteLength(body)}\n${body}\n`);
  }
  parts.push("\n");
  await git(repo, ["fast-import", "--quiet"], parts.join(""));
  const next = (await git(repo, ["rev-parse", "HEAD"])).trim();
  if (next === head) throw new Error("changeFiles: HEAD did not move");
  return next;
}

/** Files that differ between two commits (`git diff --name-only`). */
export async function changedPaths(repo, from, to) {
  return (await git(repo, ["diff", "--name-only", from, to])).split("\n").filter(Boolean);
}
