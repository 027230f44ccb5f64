import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { writeAtomic } from "./fs-atomic.js";

/** What one side held for a path after the last sync. */
export interface FileEntry {
  path: string;
  size: number;
  mtimeMs: number;
  /** Content sha256, or for an SQLite database its logical fingerprint. */
  sha256: string;
  sqlite?: true;
}

export type Side = "local" | "remote";

/** The last synced state of one (machine, replica, target): each side's entries, so mtimes are only compared within a side. */
export interface Manifest {
  /** The on-disk format it was read from. */
  version: 1 | 2;
  replica: string;
  target: string;
  host: string;
  updatedAt: string;
  local: FileEntry[];
  remote: FileEntry[];
}

/** A manifest's first line: enough to tell "nothing changed" without parsing its entries. */
export interface ManifestHeader {
  version: 1 | 2;
  replica: string;
  target: string;
  host: string;
  updatedAt: string;
  counts: Record<Side, number>;
  /** Per side, statDigest of its entries (null when it holds a database, whose contents a stat cannot vouch for). */
  stat: Record<Side, string | null>;
}

export interface LoadedManifest {
  header: ManifestHeader;
  /** Parses the entries (the bulk of the file) on first use. */
  entries(): Pick<Manifest, "local" | "remote">;
}

export function manifestPath(stateDir: string, replica: string, target: string): string {
  return path.join(stateDir, "replicas", `${replica}-${target}-${hostname()}.json`);
}

/**
 * A digest of what a side's files looked like to a stat (path, size, mtime), in path order: equal
 * digests mean the side is exactly as the manifest left it. Null when a database is among them.
 */
export function statDigest(
  entries: Iterable<{ path: string; size: number; mtimeMs: number; sqlite?: true }>,
): string | null {
  const byPath = new Map<string, { size: number; mtimeMs: number }>();
  for (const e of entries) {
    if (e.sqlite) return null;
    byPath.set(e.path, e);
  }
  const paths = [...byPath.keys()].sort(); // UTF-16 order, as the manifest's
  const nums = new Float64Array(paths.length * 2);
  paths.forEach((p, i) => {
    const e = byPath.get(p)!;
    nums[2 * i] = e.size;
    nums[2 * i + 1] = e.mtimeMs;
  });
  return createHash("sha256").update(paths.join("\0")).update(new Uint8Array(nums.buffer)).digest("hex");
}

/**
 * On disk (version 2): line 1 is the header; line 2 holds the entries, each a row
 * `[path, size, mtimeMs, sha256, sqlite?]`, a remote row's hash "" when it equals the local entry's of
 * the same path (the usual case). About half the bytes of objects, and a run that finds nothing
 * changed reads the header only.
 */
type Row = [string, number, number, string, 1?];

const toRow = (e: FileEntry, same?: FileEntry): Row => {
  const sha = same?.sha256 === e.sha256 ? "" : e.sha256;
  return e.sqlite ? [e.path, e.size, e.mtimeMs, sha, 1] : [e.path, e.size, e.mtimeMs, sha];
};

const fromRow = ([path, size, mtimeMs, sha256, sqlite]: Row): FileEntry => ({
  path,
  size,
  mtimeMs,
  sha256,
  ...(sqlite ? { sqlite: true } : {}),
});

/** The file's first line (the header), read alone; the whole text when it has no newline (version 1). */
function firstLine(file: string): { line: string; whole: boolean } {
  const fd = openSync(file, "r");
  try {
    let text = "";
    const buf = Buffer.allocUnsafe(16 << 10);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return { line: text, whole: true };
      const chunk = buf.toString("utf8", 0, n);
      const nl = chunk.indexOf("\n");
      if (nl !== -1) return { line: text + chunk.slice(0, nl), whole: false };
      text += chunk;
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

export function readManifest(file: string): LoadedManifest | undefined {
  if (!existsSync(file)) return undefined;
  const { line, whole } = firstLine(file);
  const first = JSON.parse(line) as { version?: unknown };
  if (first.version === 1) {
    // version 1: one JSON document of objects
    const { local, remote, ...rest } = first as Manifest;
    return {
      header: {
        ...rest,
        counts: { local: local.length, remote: remote.length },
        stat: { local: null, remote: null },
      },
      entries: () => ({ local, remote }),
    };
  }
  if (first.version !== 2 || whole)
    throw new Error(`${file}: unknown manifest version ${String(first.version)}`);
  let parsed: Pick<Manifest, "local" | "remote"> | undefined;
  return {
    header: first as ManifestHeader,
    entries: () => {
      if (parsed) return parsed;
      const text = readFileSync(file, "utf8");
      const body = JSON.parse(text.slice(text.indexOf("\n") + 1)) as { local: Row[]; remote: Row[] };
      const local = body.local.map(fromRow);
      const byPath = toMap(local);
      const remote = body.remote.map((r) => {
        const e = fromRow(r);
        if (e.sha256 === "") e.sha256 = byPath.get(e.path)?.sha256 ?? "";
        return e;
      });
      parsed = { local, remote };
      return parsed;
    },
  };
}

/** Written atomically (temp file in the same folder, fsync, rename), and only after a run applied its plan. */
export function writeManifest(
  file: string,
  m: Pick<Manifest, "replica" | "target" | "local" | "remote">,
): void {
  const byPath = (a: FileEntry, b: FileEntry): number => (a.path < b.path ? -1 : 1);
  const local = [...m.local].sort(byPath);
  const remote = [...m.remote].sort(byPath);
  const localMap = toMap(local);
  const header: ManifestHeader = {
    version: 2,
    replica: m.replica,
    target: m.target,
    host: hostname(),
    updatedAt: new Date().toISOString(),
    counts: { local: local.length, remote: remote.length },
    stat: { local: statDigest(local), remote: statDigest(remote) },
  };
  const body = {
    local: local.map((e) => toRow(e)),
    remote: remote.map((e) => toRow(e, localMap.get(e.path))),
  };
  writeAtomic(file, `${JSON.stringify(header)}\n${JSON.stringify(body)}\n`);
}

export function toMap(entries: readonly FileEntry[] | undefined): Map<string, FileEntry> {
  return new Map((entries ?? []).map((e) => [e.path, e]));
}
