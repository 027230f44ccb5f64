import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { copyFileAtomic } from "../src/replicas/fs-atomic.js";
import { canGroupCommit, GroupCommit } from "../src/replicas/group-commit.js";
import { TMP_PREFIX } from "../src/replicas/names.js";

// Group commits: the temp files of a batch are made durable by one syncfs (`sync -f`, run by one
// shell kept for the process) before they are renamed. Where this machine's `sync` has no -f, the
// shell says so and each temp file is fsynced on its own: the copies still land, whole.

const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-syncfs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const copyAll = async (from: string, to: string, n: number): Promise<void> => {
  const group = new GroupCommit();
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      copyFileAtomic(path.join(from, `f${i}.txt`), path.join(to, `f${i}.txt`), {
        durable: group.durable,
        root: to,
      }),
    ),
  );
};

describe.runIf(process.platform === "linux")("group commits", () => {
  it("fsync each file instead when `sync` has no -f, and every copy lands whole", async () => {
    // a `sync` that knows no --file-system, first on the PATH the shell sees
    const bin = path.join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(path.join(bin, "sync"), '#!/bin/sh\necho "Usage: sync [FILE]..."\n');
    chmodSync(path.join(bin, "sync"), 0o755);
    const path0 = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${path0 ?? ""}`;
    try {
      const from = path.join(dir, "from");
      const to = path.join(dir, "to");
      mkdirSync(from);
      mkdirSync(to);
      for (let i = 0; i < 40; i++) writeFileSync(path.join(from, `f${i}.txt`), `file ${i}\n`.repeat(i + 1));
      expect(canGroupCommit(to)).toBe(true); // not known yet: no process is started to ask
      await copyAll(from, to, 20);
      expect(canGroupCommit(to)).toBe(false); // the shell said so
      await copyAll(from, path.join(dir, "to"), 40);
      const names = readdirSync(to);
      expect(names.filter((n) => n.startsWith(TMP_PREFIX))).toEqual([]);
      expect(names.length).toBe(40);
      for (let i = 0; i < 40; i++)
        expect(readFileSync(path.join(to, `f${i}.txt`), "utf8")).toBe(`file ${i}\n`.repeat(i + 1));
    } finally {
      process.env.PATH = path0;
    }
  });
});
