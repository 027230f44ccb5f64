import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { copyFileAtomic, writeAtomic, type Durability } from "../src/replicas/fs-atomic.js";
import { TMP_PREFIX } from "../src/replicas/names.js";

let dir: string;
let src: string;
let dest: string;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "syncwarden-copy-"));
  mkdirSync(path.join(dir, "from"));
  mkdirSync(path.join(dir, "to"));
  src = path.join(dir, "from", "doc.bin");
  dest = path.join(dir, "to", "doc.bin");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/** Temp files left in either folder. */
const temps = (): string[] =>
  ["from", "to"].flatMap((d) => readdirSync(path.join(dir, d)).filter((f) => f.startsWith(TMP_PREFIX)));

/** `size` bytes of version `n` (each version a different size, so the change shows whatever the mtime precision). */
const version = (n: number, size: number): Buffer => Buffer.alloc(size + n, `version ${n}; `);

/**
 * A durability step that closes the temp file (as fsyncEach does), then rewrites the source on disk
 * while the copy is in flight, the first `times` times it is called.
 */
function changingSource(times: number, size: number): { durable: Durability; calls: () => number } {
  let calls = 0;
  const durable: Durability = (fd) => {
    closeSync(fd);
    calls++;
    if (calls <= times) writeFileSync(src, version(calls + 1, size));
    return Promise.resolve();
  };
  return { durable, calls: () => calls };
}

describe("copyFileAtomic: the source changing during the copy", () => {
  it.each([
    ["a small file (read whole)", 1000],
    ["a large file (streamed)", 9 << 20],
  ])("%s changed once: the copy is redone and lands whole, with the new version's hash", async (_n, size) => {
    writeFileSync(src, version(1, size));
    const step = changingSource(1, size);
    const copied = await copyFileAtomic(src, dest, { durable: step.durable });
    expect(step.calls()).toBe(2);
    const now = version(2, size);
    expect(readFileSync(dest).equals(now)).toBe(true);
    expect(copied).toMatchObject({ size: now.length, sha256: sha256(now), mtimeMs: statSync(src).mtimeMs });
    expect(statSync(dest).mtimeMs).toBe(copied.destMtimeMs);
    expect(temps()).toEqual([]);
  });

  it("changing on every attempt: throws after 3, the old destination untouched, no temp files", async () => {
    writeFileSync(src, version(1, 1000));
    writeFileSync(dest, "the old contents");
    const step = changingSource(Infinity, 1000);
    await expect(copyFileAtomic(src, dest, { durable: step.durable })).rejects.toThrow(/kept changing/);
    expect(step.calls()).toBe(3);
    expect(readFileSync(dest, "utf8")).toBe("the old contents");
    expect(temps()).toEqual([]);
  });

  it("changing on every attempt with no destination yet: none is created", async () => {
    writeFileSync(src, version(1, 1000));
    const step = changingSource(Infinity, 1000);
    await expect(copyFileAtomic(src, dest, { durable: step.durable })).rejects.toThrow(/kept changing/);
    expect(existsSync(dest)).toBe(false);
    expect(readdirSync(path.dirname(dest))).toEqual([]);
  });
});

describe("writeAtomic", () => {
  it("writes many buffers (more than one writev takes) in order, and leaves no temp file", () => {
    const parts = Array.from({ length: 3000 }, (_, i) => Buffer.from(`part ${i};`));
    const dest = path.join(dir, "many", "out.bin");
    writeAtomic(dest, parts);
    expect(readFileSync(dest).equals(Buffer.concat(parts))).toBe(true);
    expect(readdirSync(path.dirname(dest))).toEqual(["out.bin"]);
  });
});
