import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readManifest, statDigest, writeManifest, type FileEntry } from "../src/replicas/manifest.js";
import { scanTree, scanTreeFast, type ScanOptions } from "../src/replicas/scan.js";
import { TMP_PREFIX } from "../src/replicas/fs-atomic.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "syncwarden-scan-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const opts = (o: Partial<ScanOptions> = {}): ScanOptions => ({
  excludeDirs: [],
  excludeFiles: [],
  removeTemps: false,
  ...o,
});

/** A tree with the names and kinds a walk can get wrong. */
function tricky(root: string): void {
  const files = [
    "plain.txt",
    "with space.txt",
    "tab\there.txt",
    "new\nline.txt",
    "ünïcödé/ファイル.md",
    "deep/a/b/c/d.txt",
    "notes.db-wal",
    ".syncwarden-replica",
    "skip/me.txt",
    "empty.txt",
  ];
  for (const [i, f] of files.entries()) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), f === "empty.txt" ? "" : `content ${i}\n`.repeat(i + 1));
  }
  // sub-millisecond mtimes: the two walks must agree to the bit
  utimesSync(path.join(root, "plain.txt"), 1_700_000_000.123456, 1_700_000_000.987654);
  writeFileSync(path.join(root, `${TMP_PREFIX}abc-plain.txt`), "half a copy");
  symlinkSync(path.join(root, "plain.txt"), path.join(root, "inside-link"));
  symlinkSync(tmpdir(), path.join(root, "outside-link"));
}

describe("the find walk and the Node walk", () => {
  it("see the same files, sizes and mtimes (to the bit), the same outside symlinks and temp files", async () => {
    const root = path.join(dir, "tree");
    tricky(root);
    const o = opts({ excludeDirs: [path.join(root, "skip")] });
    const fast = await scanTreeFast(root, o);
    const slow = scanTree(root, o);
    expect([...fast.files.keys()].sort()).toEqual([...slow.files.keys()].sort());
    expect(fast.files.size).toBe(7); // not the marker, the -wal sidecar, the excluded folder or the temp file
    for (const [p, f] of slow.files) {
      expect(fast.files.get(p), p).toEqual(f);
      expect(f.mtimeMs).toBe(statSync(path.join(root, p)).mtimeMs);
    }
    expect(fast.files.get("tab\there.txt")?.size).toBe(statSync(path.join(root, "tab\there.txt")).size);
    expect(fast.symlinksOutside).toEqual(["outside-link"]);
    expect(slow.symlinksOutside).toEqual(["outside-link"]);
    expect(fast.strayTemps).toBe(1);
    expect(slow.strayTemps).toBe(1);
    expect(statDigest(fast.files.values())).toBe(statDigest(slow.files.values()));
  });

  it("walks a root that is itself a symlink to a folder (a mount point, a cloud folder)", async () => {
    const root = path.join(dir, "tree");
    tricky(root);
    symlinkSync(root, path.join(dir, "link"));
    const viaLink = await scanTreeFast(path.join(dir, "link"), opts());
    expect([...viaLink.files.keys()].sort()).toEqual([...scanTree(root, opts()).files.keys()].sort());
    expect(viaLink.files.size).toBe(8);
  });

  it("removes stray temp files when asked, and fails on a missing root", async () => {
    const root = path.join(dir, "tree");
    tricky(root);
    await scanTreeFast(root, opts({ removeTemps: true }));
    expect((await scanTreeFast(root, opts())).strayTemps).toBe(0);
    await expect(scanTreeFast(path.join(dir, "absent"), opts())).rejects.toThrow(/ENOENT|absent/);
  });
});

describe("the manifest's stat digest", () => {
  const entry = (p: string, size: number, mtimeMs: number): FileEntry => ({
    path: p,
    size,
    mtimeMs,
    sha256: "x",
  });

  it("changes with any path, size or mtime, not with order; a database makes it null", () => {
    const base = [entry("a", 1, 1000.5), entry("b/c", 2, 2000)];
    const d = statDigest(base);
    expect(statDigest([...base].reverse())).toBe(d);
    expect(statDigest([entry("a", 1, 1000.5), entry("b/d", 2, 2000)])).not.toBe(d);
    expect(statDigest([entry("a", 3, 1000.5), entry("b/c", 2, 2000)])).not.toBe(d);
    expect(statDigest([entry("a", 1, 1000.6), entry("b/c", 2, 2000)])).not.toBe(d);
    expect(statDigest(base.slice(1))).not.toBe(d);
    expect(statDigest([...base, { ...entry("x.db", 1, 1), sqlite: true }])).toBeNull();
  });

  it("is written in the header, read without the entries, and the entries round-trip", () => {
    const file = path.join(dir, "m.json");
    const local = [
      entry("a", 1, 1000.25),
      { ...entry("db.sqlite", 4096, 5), sha256: "fp", sqlite: true as const },
    ];
    const remote = [entry("a", 1, 999), { ...entry("only-remote", 2, 7), sha256: "other" }];
    writeManifest(file, { replica: "r", target: "t", local, remote });
    const m = readManifest(file)!;
    expect(m.header.counts).toEqual({ local: 2, remote: 2 });
    expect(m.header.stat).toEqual({ local: null, remote: statDigest(remote) });
    const { local: l, remote: r } = m.entries();
    expect(l).toEqual(local);
    expect(r).toEqual(remote);
  });

  it("reads a version 1 manifest (one JSON document of objects)", () => {
    const file = path.join(dir, "v1.json");
    const local = [entry("a", 1, 10)];
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        replica: "r",
        target: "t",
        host: "h",
        updatedAt: "",
        local,
        remote: local,
      }),
    );
    const m = readManifest(file)!;
    expect(m.header.stat).toEqual({ local: null, remote: null });
    expect(m.entries()).toEqual({ local, remote: local });
    writeFileSync(file, JSON.stringify({ version: 9 }));
    expect(() => readManifest(file)).toThrow(/unknown manifest version 9/);
  });
});
