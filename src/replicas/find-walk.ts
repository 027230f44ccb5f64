import { spawn, type ChildProcess } from "node:child_process";
import { realpathSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import {
  classify,
  nodeWalk,
  parsed,
  special,
  type RawScan,
  type ScanOptions,
  type ScanResult,
} from "./scan.js";

// The fast walk: GNU find does the walk and the stat calls in other processes, both sides at once;
// what it prints is brought to the Node walk's records by scan.ts.

/** `find`'s own error for a folder that vanished during the walk (ignored, like the Node walk). */
const VANISHED = /No such file or directory/;

/** Escapes find's -path pattern characters. */
const literal = (p: string): string => p.replace(/[\\*?[\]]/g, "\\$&");

let findWorks: boolean | undefined;

/** find's arguments for a root: it only walks and stats (prunes excluded folders, skips folders). */
function findArgs(root: string, o: ScanOptions): string[] {
  // what is ours or never carried is told apart afterwards by a few searches of its output (see
  // classify): name tests in find cost more than the walk itself
  const inside = o.excludeDirs.filter((d) => d.startsWith(root + path.sep));
  const prune = inside.flatMap((d, i) => [...(i > 0 ? ["-o"] : []), "-path", literal(d)]);
  return [
    "-H", // the root itself may be a symlink (a mount, a cloud folder); links below it are not followed
    root,
    "-mindepth",
    "1",
    ...(prune.length > 0 ? ["-type", "d", "(", ...prune, ")", "-prune", "-o"] : []),
    "-type",
    "d",
    "-o",
    "-printf",
    "%y\\t%s\\t%T@\\t%P\\0",
  ];
}

/** Byte-wise names (-iname is several times faster), the rest of the environment as it is. */
const findEnv = (): NodeJS.ProcessEnv => ({ ...process.env, LC_ALL: "C" });

/** What find printed for a root, as a walk; undefined where find cannot do it (the Node walk then). */
function walked(root: string, o: ScanOptions, out: Captured): RawScan | undefined {
  if (out.signal !== null) throw new Error(`the walk of ${root} was stopped (${out.signal})`);
  const errors = out.stderr.split("\n").filter((l) => l.trim() !== "");
  if (out.code !== 0 && errors.some((l) => /-printf|unknown predicate|illegal option/i.test(l))) return;
  const real = errors.filter((l) => !VANISHED.test(l));
  if (out.code !== 0 && real.length > 0)
    throw new Error(`cannot walk ${root}: ${real.slice(0, 3).join("; ")}`);
  return special(root, classify(out.stdout, o), o);
}

/**
 * A walk's records, with GNU find doing the walk and the stat calls in another process (several times
 * faster than lstat from JavaScript on large trees, and off this thread). Falls back to the Node walk
 * where find lacks -printf (BSD, busybox) or is missing. Both print the same records: the stamp is
 * find's %T@, which the Node walk writes from a bigint lstat.
 */
export async function scanRecords(
  root: string,
  o: ScanOptions,
  onSpawn?: (child: ChildProcess) => void,
): Promise<RawScan> {
  if (findWorks === false) return nodeWalk(root, o);
  realpathSync(root); // throws for a missing or unreadable root, as the Node walk does
  let out: Captured;
  try {
    out = (await capture("find", findArgs(root, o), 1, onSpawn))[0]!;
  } catch {
    findWorks = false;
    return nodeWalk(root, o);
  }
  const raw = walked(root, o, out);
  findWorks = raw !== undefined;
  return raw ?? nodeWalk(root, o);
}

/** A word for sh, quoted. */
const quoted = (w: string): string => `'${w.replace(/'/g, "'\\''")}'`;

/** What sh exits with when a command is not found (find missing). */
const NOT_FOUND = 127;

/**
 * Both roots walked at once, as two scanRecords would, by two finds that one `sh` starts: Node starts
 * one process instead of two, and starting a process from a large one is slow (each costs this thread
 * about as long as loading a module). The first find writes to fds 1 and 2, the second to 3 and 4;
 * sh exits with both exit codes (each at most 15). Without sh, or with roots that cannot be read, the
 * roots are walked one scanRecords each, which say which side failed.
 */
export function scanPair(
  roots: readonly [string, string],
  o: ScanOptions,
  onSpawn?: (child: ChildProcess) => void,
): [Promise<RawScan>, Promise<RawScan>] {
  const apart = (): [Promise<RawScan>, Promise<RawScan>] => [
    scanRecords(roots[0], o, onSpawn),
    scanRecords(roots[1], o, onSpawn),
  ];
  if (findWorks === false || process.platform === "win32") return apart();
  try {
    for (const r of roots) realpathSync(r);
  } catch {
    return apart();
  }
  const [a, b] = roots.map((r) => findArgs(r, o).map(quoted).join(" "));
  const script = `find ${a} & p=$!; find ${b} >&3 2>&4; b=$?; wait $p; a=$?; exit $(( (a > 15 ? 15 : a) * 16 + (b > 15 ? 15 : b) ))`;
  // each side's output with its own exit code; undefined when sh could not start
  const both = capture("sh", ["-c", script], 2, onSpawn).then(
    (outs) => {
      const code = outs[0]!.code ?? 0;
      return outs.map((out, i) => ({ ...out, code: i === 0 ? code >> 4 : code & 15 }));
    },
    () => undefined,
  );
  const side = async (i: 0 | 1): Promise<RawScan> => {
    const got = await both;
    if (got === undefined) return scanRecords(roots[i], o, onSpawn);
    const out = got[i]!;
    const raw =
      out.signal === null && out.code === Math.min(15, NOT_FOUND) ? undefined : walked(roots[i], o, out);
    findWorks = raw !== undefined; // undefined: find is missing, or lacks -printf
    return raw ?? nodeWalk(roots[i], o);
  };
  return [side(0), side(1)];
}

interface Captured {
  stdout: Buffer;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Room reserved for a walk's output: address space only, its pages are touched as the output fills them. */
const RESERVE = 1 << 22;

/**
 * Runs a command and collects what it writes to fds 1 and 2 (`streams` 1), or also to 3 and 4
 * (`streams` 2); each stream's exit code is the command's.
 */
function capture(
  cmd: string,
  args: string[],
  streams: 1 | 2,
  onSpawn?: (child: ChildProcess) => void,
): Promise<Captured[]> {
  return new Promise((resolve, reject) => {
    const pipes = streams === 1 ? 2 : 4;
    const child = spawn(cmd, args, {
      stdio: ["ignore", ...Array.from({ length: pipes }, () => "pipe" as const)],
      env: findEnv(),
    });
    onSpawn?.(child);
    const outs = Array.from({ length: streams }, (_, i) => collect(child.stdio[1 + 2 * i] as Readable));
    const errs = Array.from({ length: streams }, (_, i) => {
      let err = "";
      (child.stdio[2 + 2 * i] as Readable).on("data", (b: Buffer) => (err += b.toString("utf8")));
      return () => err;
    });
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve(outs.map((out, i) => ({ stdout: out(), stderr: errs[i]!(), code, signal }))),
    );
  });
}

/**
 * A stream's bytes: each piece is copied into one buffer as it comes, not kept for a concatenation at
 * the end, so the output is touched once and the pieces' memory is reused for the next ones.
 */
function collect(stream: Readable): () => Buffer {
  let out = Buffer.allocUnsafeSlow(RESERVE);
  let len = 0;
  stream.on("data", (b: Buffer) => {
    if (len + b.length > out.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(2 * out.length, len + b.length));
      out.copy(bigger, 0, 0, len);
      out = bigger;
    }
    len += b.copy(out, len);
  });
  return () => out.subarray(0, len);
}

/** scanRecords, parsed. */
export async function scanTreeFast(root: string, o: ScanOptions): Promise<ScanResult> {
  return parsed(await scanRecords(root, o));
}
