import {
  appendFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  blockOf,
  EMPTY_BLOCK,
  entriesOf,
  readManifest,
  writeManifest,
  type FileEntry,
} from "../src/replicas/manifest.js";
import { SideDelta } from "../src/replicas/delta.js";
import { manifestMatches } from "../src/replicas/manifest-match.js";
import type { ScanOptions } from "../src/replicas/scan.js";
import { mtimeMsOf, stampOf } from "../src/replicas/stamp.js";
import { scanTree, walkTree } from "../src/replicas/walk-tree.js";
import { manifestPath, TMP_PREFIX } from "../src/replicas/names.js";

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
    "Notes.DB-wal",
    "plain-wal",
    ".syncwarden-replica",
    "sub/.syncwarden-replica",
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

describe("the walk", () => {
  it("sees each file's size and mtime (to the nanosecond, as its stamp), outside symlinks and temp files", async () => {
    const root = path.join(dir, "tree");
    tricky(root);
    const o = opts({ excludeDirs: [path.join(root, "skip")] });
    const scan = await scanTree(root, o);
    // not the marker, the sidecars, the excluded folder or the temp file; a nested marker and a name
    // that only ends like a sidecar are files
    expect([...scan.files.keys()].sort()).toEqual(
      [
        "deep/a/b/c/d.txt",
        "empty.txt",
        "new\nline.txt",
        "plain-wal",
        "plain.txt",
        "sub/.syncwarden-replica",
        "tab\there.txt",
        "with space.txt",
        "ünïcödé/ファイル.md",
      ].sort(),
    );
    for (const [p, f] of scan.files) {
      const st = lstatSync(path.join(root, p), { bigint: true });
      expect(f, p).toEqual({
        path: p,
        size: Number(st.size),
        mtimeMs: mtimeMsOf(f.stamp!),
        stamp: stampOf(st.mtimeNs),
      });
      expect(f.mtimeMs).toBe(statSync(path.join(root, p)).mtimeMs);
    }
    expect(scan.files.get("plain.txt")?.stamp).toBe("1700000000.9876530000"); // find's %T@ text (utimes sets microseconds)
    expect(scan.symlinksOutside).toEqual(["outside-link"]);
    expect(scan.strayTemps).toBe(1);
    // a file's record is type, size, stamp and path; symlinks and temp files are typed, not stat'ed
    const raw = (await walkTree(root, o)).records.toString("utf8").split("\0");
    const tab = scan.files.get("tab\there.txt")!;
    expect(raw).toContain(`f\t${tab.size}\t${tab.stamp!}\ttab\there.txt`);
    expect(raw.filter((r) => r.startsWith("l\t")).sort()).toEqual([
      "l\t0\t0\tinside-link",
      "l\t0\t0\toutside-link",
    ]);
    expect(raw.filter((r) => r.startsWith("T\t"))).toEqual([`T\t0\t0\t${TMP_PREFIX}abc-plain.txt`]);
  });

  it("prints the same records for the same tree, in the order its folders list them", async () => {
    const root = path.join(dir, "tree");
    tricky(root);
    const a = await walkTree(root, opts());
    const b = await walkTree(root, opts());
    expect(a.records.equals(b.records)).toBe(true);
  });

  it("walks a root that is itself a symlink to a folder (a mount point, a cloud folder)", async () => {
    const root = path.join(dir, "tree");
    tricky(root);
    symlinkSync(root, path.join(dir, "link"));
    const viaLink = await scanTree(path.join(dir, "link"), opts());
    expect([...viaLink.files.keys()].sort()).toEqual([...(await scanTree(root, opts())).files.keys()].sort());
    expect(viaLink.files.size).toBe(10);
    expect(viaLink.symlinksOutside).toEqual(["outside-link"]);
  });

  it("leaves out excluded files at the root only", async () => {
    const root = path.join(dir, "tree");
    tricky(root);
    mkdirSync(path.join(root, "deep", "x"), { recursive: true });
    writeFileSync(path.join(root, "deep", "x", "empty.txt"), "nested, carried");
    const scan = await scanTree(root, opts({ excludeFiles: ["empty.txt", "deep/a/b/c/d.txt"] }));
    expect(scan.files.has("empty.txt") || scan.files.has("deep/a/b/c/d.txt")).toBe(false);
    expect(scan.files.has("deep/x/empty.txt")).toBe(true);
  });

  it("removes stray temp files when asked, and fails on a missing root", async () => {
    const root = path.join(dir, "tree");
    tricky(root);
    await scanTree(root, opts({ removeTemps: true }));
    expect((await scanTree(root, opts())).strayTemps).toBe(0);
    await expect(scanTree(path.join(dir, "absent"), opts())).rejects.toThrow(/ENOENT|absent/);
  });

  it("stops between folders once its signal is aborted", async () => {
    const root = path.join(dir, "tree");
    tricky(root);
    const stop = new AbortController();
    stop.abort();
    await expect(walkTree(root, opts(), stop.signal)).rejects.toThrow(/abort/i);
  });
});

describe("the manifest", () => {
  const sha = (c: string): string => c.repeat(64);

  it("keeps each side's walk records and hashes, and round-trips its entries", async () => {
    const root = path.join(dir, "tree");
    tricky(root);
    const stateDir = path.join(dir, "state");
    const raw = await walkTree(root, opts());
    const delta = new SideDelta(raw.records, EMPTY_BLOCK, new Set(), 0);
    expect(delta.identical).toBe(false);
    expect(delta.dirty.size).toBe(10); // every file is new
    const final = new Map<string, FileEntry | undefined>();
    for (const p of delta.dirty) final.set(p, { ...delta.current(p)!, sha256: sha("a") });
    final.set("plain.txt", { ...delta.current("plain.txt")!, sha256: sha("b"), sqlite: true });
    const next = delta.next(final);
    expect(next.count).toBe(10);
    expect(next.sqlite).toEqual(["plain.txt"]);
    writeManifest(stateDir, {
      replica: "r",
      target: "t",
      local: next.block,
      remote: next.block,
      counts: { local: next.count, remote: next.count },
      sqlite: { local: next.sqlite, remote: [] },
    });
    const m = readManifest(stateDir, "r", "t")!;
    expect(m.header.counts).toEqual({ local: 10, remote: 10 });
    const entries = entriesOf(m.local, m.header.sqlite.local);
    expect(entries.map((e) => e.path).sort()).toEqual([...delta.dirty].sort());
    expect(entries.find((e) => e.path === "plain.txt")).toMatchObject({ sha256: sha("b"), sqlite: true });
    expect(entries.find((e) => e.path === "empty.txt")).toMatchObject({ size: 0, sha256: sha("a") });

    // the next walk of an unchanged tree: byte-identical, nothing to look at but the database
    const again = new SideDelta(
      (await walkTree(root, opts())).records,
      m.local,
      new Set(m.header.sqlite.local),
      10,
    );
    expect(again.identical).toBe(false); // the temp file and symlinks are left out of the manifest
    expect([...again.dirty]).toEqual(["plain.txt"]);
    expect(again.previous("empty.txt")).toMatchObject({ sha256: sha("a") });
    // one changed file is the only other dirty path
    writeFileSync(path.join(root, "with space.txt"), "changed");
    const changed = new SideDelta((await walkTree(root, opts())).records, m.local, new Set(), 10);
    expect([...changed.dirty]).toEqual(["with space.txt"]);
    expect(changed.current("with space.txt")?.size).toBe(7);
    expect(changed.previous("with space.txt")?.sha256).toBe(sha("a"));
  });

  it("tells a walk identical to its records without reading the rest (slices of 256 KiB, either side)", () => {
    const stateDir = path.join(dir, "state");
    // records past one slice on each side, so a difference in a later slice must be found too
    const recs = (side: string, n: number): Buffer =>
      Buffer.from(
        Array.from(
          { length: n },
          (_, i) => `f\t${i}\t1700000000.0000000000\t${side}/d${i % 7}/file-${i}.txt\0`,
        ).join(""),
        "utf8",
      );
    const local = recs("l", 12000);
    const remote = recs("r", 8000);
    expect(local.length).toBeGreaterThan(2 * 256 * 1024);
    const block = (r: Buffer) => blockOf(r, Buffer.alloc((r.toString().match(/\0/g) ?? []).length * 32));
    writeManifest(stateDir, {
      replica: "r",
      target: "t",
      local: block(local),
      remote: block(remote),
      counts: { local: 12000, remote: 8000 },
      sqlite: { local: [], remote: [] },
    });
    const matches = (l: Buffer, r: Buffer) => manifestMatches(stateDir, "r", "t", { local: l, remote: r });
    expect(matches(local, remote)?.counts).toEqual({ local: 12000, remote: 8000 });
    for (const [side, at] of [
      ["local", 10],
      ["local", 300_000],
      ["local", local.length - 2],
      ["remote", 270_000],
    ] as const) {
      const changed = Buffer.from(side === "local" ? local : remote);
      changed[at] = changed[at] === 0x31 ? 0x32 : 0x31;
      expect(side === "local" ? matches(changed, remote) : matches(local, changed)).toBeUndefined();
    }
    expect(matches(local.subarray(0, local.length - 1), remote)).toBeUndefined(); // shorter
    expect(matches(local, Buffer.concat([remote, Buffer.from("f\t1\t1.0\tx\0")]))).toBeUndefined(); // longer
    expect(manifestMatches(stateDir, "r", "other", { local, remote })).toBeUndefined(); // no manifest
    // a damaged manifest is never taken for a match: the whole read then says what is wrong
    const file = manifestPath(stateDir, "r", "t");
    appendFileSync(file, "x");
    expect(matches(local, remote)).toBeUndefined();
    truncateSync(file, statSync(file).size - 100);
    expect(matches(local, remote)).toBeUndefined();
    expect(() => readManifest(stateDir, "r", "t")).toThrow(/truncated manifest|inconsistent manifest/);
  });

  it("refuses a manifest of a version it does not know", () => {
    const stateDir = path.join(dir, "state");
    const file = manifestPath(stateDir, "r", "t");
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify({ version: 9 })}\n`);
    expect(() => readManifest(stateDir, "r", "t")).toThrow(/unknown manifest version 9/);
    expect(manifestMatches(stateDir, "r", "t", { local: Buffer.alloc(0), remote: Buffer.alloc(0) })).toBe(
      undefined,
    );
  });

  describe("a walk beside the manifest's records", () => {
    const rec = (p: string, size = 1, stamp = "1700000000.0000000000"): string =>
      `f\t${size}\t${stamp}\t${p}`;
    const buf = (recs: string[]): Buffer => Buffer.from(recs.map((r) => `${r}\0`).join(""), "utf8");
    /** A manifest side holding `recs`, the hash of each "h<index>" in hex. */
    const block = (recs: string[]) => {
      const shas = Buffer.alloc(recs.length * 32);
      recs.forEach((_, i) => shas.write(sha(String(i % 10)), i * 32, 32, "hex"));
      return blockOf(buf(recs), shas);
    };
    const pathOf = (r: string): string => r.slice(r.indexOf("\t", r.indexOf("\t", 2) + 1) + 1);
    const parseSize = (r: string): number => Number(r.split("\t")[1]);
    const files = ["a", "b", "c", "d", "e", "f", "g", "h"].map((p) => rec(`dir/${p}.txt`));

    it("sees no change in a walk that lists the same records in another order", () => {
      const old = block(files);
      const d = new SideDelta(buf([...files].reverse()), old, new Set(), files.length);
      expect(d.identical).toBe(false);
      expect([...d.dirty]).toEqual([]);
      expect(d.files).toBe(8);
      expect(d.previous("dir/c.txt")?.sha256).toBe(sha("2"));
      // the next manifest takes the walk's order, so the walk after it is identical again
      const next = d.next(new Map());
      expect(next.block.records.equals(buf([...files].reverse()))).toBe(true);
      expect(new SideDelta(buf([...files].reverse()), next.block, new Set(), next.count).identical).toBe(
        true,
      );
      expect(next.block.shas.toString("hex", 0, 32)).toBe(sha("7"));
    });

    it("marks exactly the paths added, changed in place, and removed, wherever they are in the walk", () => {
      const old = block(files);
      const walk = [...files];
      walk[2] = rec("dir/c.txt", 5); // changed in place
      walk.splice(5, 1); // dir/f.txt removed
      walk.splice(1, 0, rec("dir/new.txt")); // added near the start
      walk.push(rec("dir/last.txt")); // added at the end
      const d = new SideDelta(buf(walk), old, new Set(), files.length);
      expect([...d.dirty].sort()).toEqual(["dir/c.txt", "dir/f.txt", "dir/last.txt", "dir/new.txt"]);
      expect(d.current("dir/c.txt")?.size).toBe(5);
      expect(d.previous("dir/c.txt")).toMatchObject({ size: 1, sha256: sha("2") });
      expect(d.current("dir/f.txt")).toBeUndefined();
      expect(d.previous("dir/f.txt")?.sha256).toBe(sha("5"));
      expect(d.previous("dir/new.txt")).toBeUndefined();
      expect(d.previous("dir/h.txt")?.sha256).toBe(sha("7")); // unchanged, after the shifts
    });

    it("records files a side received in the order the other side's walk listed them", () => {
      const source = new SideDelta(buf([files[2]!, files[0]!, files[1]!]), EMPTY_BLOCK, new Set(), 0);
      const target = new SideDelta(Buffer.alloc(0), EMPTY_BLOCK, new Set(), 0);
      const final = new Map<string, FileEntry | undefined>(
        ["dir/a.txt", "dir/b.txt", "dir/c.txt", "dir/z.txt"].map((p) => [
          p,
          { path: p, size: 1, mtimeMs: 0, stamp: "1700000000.0000000000", sha256: sha("1") },
        ]),
      );
      const next = target.next(final, (p) => source.position(p));
      // the walk of the same names on the same file system: identical, so the next run has nothing to do
      const walk = buf([files[2]!, files[0]!, files[1]!, rec("dir/z.txt")]);
      expect(next.block.records.equals(walk)).toBe(true);
    });

    it("always looks again at a record written without a walk's stamp, and at a database", () => {
      const old = block([...files.slice(0, 7), "?\t1\t1700000000000\tdir/h.txt"]);
      const d = new SideDelta(buf(files), old, new Set(["dir/a.txt"]), files.length);
      expect([...d.dirty].sort()).toEqual(["dir/a.txt", "dir/h.txt"]);
      expect(d.previous("dir/a.txt")?.sqlite).toBe(true);
      expect(d.previous("dir/h.txt")).toMatchObject({ size: 1, mtimeMs: 1_700_000_000_000 });
    });

    it("agrees with a full comparison on random walks: dirty paths, lookups, and the next block", () => {
      let seed = 7;
      const rnd = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      for (let round = 0; round < 60; round++) {
        // a folder listed in another order (every record elsewhere), with or without changes
        const reversed = round % 6 === 5 || round % 6 === 4;
        const n = reversed ? 1500 : 1 + rnd(300);
        const oldRecs = Array.from({ length: n }, (_, i) => rec(`d${rnd(20)}/f${i}.txt`, 1 + rnd(3)));
        const old = block(oldRecs);
        const walk = oldRecs.map((r) => r);
        for (let k = round % 6 === 4 ? 0 : rnd(12); k > 0; k--) {
          const i = rnd(walk.length);
          const what = rnd(4);
          if (what === 0)
            walk[i] = rec(pathOf(walk[i]!), 9); // changed in place
          else if (what === 1)
            walk.splice(i, 1); // removed
          else if (what === 2)
            walk.splice(i, 0, rec(`new/${round}-${k}.txt`)); // added
          else if (walk.length > 1) walk.splice(rnd(walk.length), 0, walk.splice(i, 1)[0]!); // moved
        }
        if (reversed) walk.reverse();
        const d = new SideDelta(buf(walk), old, new Set(), n);
        const before = new Map(oldRecs.map((r, i) => [pathOf(r), { r, i }]));
        const now = new Map(walk.map((r) => [pathOf(r), r]));
        const expected = new Set(
          [...before.keys(), ...now.keys()].filter((p) => before.get(p)?.r !== now.get(p)),
        );
        expect(new Set(d.dirty), `round ${round}`).toEqual(expected);
        expect(d.files).toBe(now.size);
        for (const p of new Set([...before.keys(), ...now.keys()])) {
          expect(d.current(p)?.size, p).toBe(now.has(p) ? parseSize(now.get(p)!) : undefined);
          const b = before.get(p);
          expect(d.previous(p)?.sha256, p).toBe(
            b ? (b.i % 10 === 0 ? "" : sha(String(b.i % 10))) : undefined,
          );
        }
        // the next block: every dirty path given its current entry, one clean path rewritten
        const final = new Map<string, FileEntry | undefined>();
        for (const p of d.dirty) {
          const c = d.current(p);
          final.set(p, c ? { ...c, sha256: sha("e") } : undefined);
        }
        const cleanPaths = [...now.keys()].filter((p) => !d.dirty.has(p));
        const clean = cleanPaths[0];
        if (clean) final.set(clean, { ...d.current(clean)!, sha256: sha("f") });
        // a clean file the run deleted, and a file the run wrote where the walk saw none
        const reorderOnly = round % 6 === 4;
        const deleted = round % 2 === 0 && !reorderOnly ? cleanPaths[1] : undefined;
        if (deleted) {
          final.set(deleted, undefined);
          now.delete(deleted);
        }
        const written = `written/${round}.txt`;
        if (!reorderOnly) {
          final.set(written, { path: written, size: 4, mtimeMs: 1, stamp: "0.0000000010", sha256: sha("a") });
          now.set(written, rec(written, 4, "0.0000000010"));
        }
        const next = d.next(final);
        expect(next.count).toBe(now.size);
        const reference = blockOf(next.block.records, next.block.shas);
        expect([...next.block.offs]).toEqual([...reference.offs]);
        expect([...next.block.byPath]).toEqual([...reference.byPath]);
        expect(new Set(entriesOf(next.block).map((e) => `${e.path}:${e.size}`))).toEqual(
          new Set([...now.values()].map((r) => `${pathOf(r)}:${parseSize(r)}`)),
        );
        if (clean) expect(entriesOf(next.block).find((e) => e.path === clean)?.sha256).toBe(sha("f"));
        // and the walk after it, of the same tree, finds nothing changed
        const again = new SideDelta(buf([...now.values()]), next.block, new Set(), next.count);
        expect([...again.dirty]).toEqual([]);
        if (reorderOnly)
          expect(new SideDelta(buf(walk), next.block, new Set(), next.count).identical).toBe(true);
        else if (!deleted)
          expect(
            new SideDelta(
              buf(walk.concat(rec(written, 4, "0.0000000010"))),
              next.block,
              new Set(),
              next.count,
            ).identical,
          ).toBe(true);
      }
    });
  });
});
