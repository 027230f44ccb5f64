import type { FileEntry, Side } from "./manifest.js";

export type Direction = "push" | "pull" | "bidirectional";
export type ConflictStrategy = "newest" | "local" | "remote" | "manual";

export type Action =
  /** Carry `entry` (the other side's current version) to side `to`. */
  | { kind: "copy"; path: string; to: Side; entry: FileEntry; over?: FileEntry }
  /** Delete `entry` (the current version on side `on`): the other side deleted it. */
  | { kind: "delete"; path: string; on: Side; entry: FileEntry }
  /** Changed on both sides with different contents. `winner: "manual"` keeps both. */
  | {
      kind: "conflict";
      path: string;
      local: FileEntry;
      remote: FileEntry;
      winner: Side | "manual";
      loser: Side;
      strategy: ConflictStrategy;
    }
  | { kind: "skip"; path: string; reason: string };

export interface Plan {
  actions: Action[];
  /** Paths needing no action, with what each side holds now (the next manifest's entries). */
  settled: Map<string, { local?: FileEntry; remote?: FileEntry }>;
}

export interface ReconcileInput {
  local: Map<string, FileEntry>;
  remote: Map<string, FileEntry>;
  prevLocal: Map<string, FileEntry>;
  prevRemote: Map<string, FileEntry>;
  direction: Direction;
  conflict: ConflictStrategy;
  windowMs: number;
}

type Change = "none" | "added" | "modified" | "deleted";

/** A side's change is judged against that side's own manifest entry (no cross-side clock comparison). */
export function judge(cur: FileEntry | undefined, prev: FileEntry | undefined): Change {
  if (!cur) return prev ? "deleted" : "none";
  if (!prev) return "added";
  return cur.sha256 === prev.sha256 ? "none" : "modified";
}

const other = (s: Side): Side => (s === "local" ? "remote" : "local");

/** Three-way reconciliation of both current trees against the last synced state. */
export function reconcile(i: ReconcileInput): Plan {
  const actions: Action[] = [];
  const settled: Plan["settled"] = new Map();
  const may = (to: Side): boolean =>
    i.direction === "bidirectional" || (i.direction === "push" ? to === "remote" : to === "local");
  const paths = new Set([
    ...i.local.keys(),
    ...i.remote.keys(),
    ...i.prevLocal.keys(),
    ...i.prevRemote.keys(),
  ]);
  const settle = (p: string, local: FileEntry | undefined, remote: FileEntry | undefined): void => {
    if (local || remote) settled.set(p, { ...(local ? { local } : {}), ...(remote ? { remote } : {}) });
  };
  const flow = (p: string, from: Side, cur: FileEntry | undefined, target: FileEntry | undefined): void => {
    const to = other(from);
    if (!may(to)) {
      actions.push({
        kind: "skip",
        path: p,
        reason: `${from} change not carried (direction ${i.direction})`,
      });
    } else if (cur)
      actions.push({ kind: "copy", path: p, to, entry: cur, ...(target ? { over: target } : {}) });
    else if (target) actions.push({ kind: "delete", path: p, on: to, entry: target });
  };
  for (const p of [...paths].sort()) {
    const l = i.local.get(p);
    const r = i.remote.get(p);
    const cl = judge(l, i.prevLocal.get(p));
    const cr = judge(r, i.prevRemote.get(p));
    if (cl === "none" && cr === "none") {
      // unchanged on both sides; a path only one side ever held (e.g. kept back by direction) stays so
      if (l && r && l.sha256 !== r.sha256) {
        actions.push({ kind: "skip", path: p, reason: "differs but unchanged since the last run" });
      } else settle(p, l, r);
      continue;
    }
    if (cr === "none") {
      flow(p, "local", l, r);
      continue;
    }
    if (cl === "none") {
      flow(p, "remote", r, l);
      continue;
    }
    // changed on both sides
    if (!l && !r) continue; // deleted on both
    if (l && r && l.sha256 === r.sha256) {
      settle(p, l, r); // identical changes are not conflicts
      continue;
    }
    if (!l || !r) {
      // deleted on one side, changed on the other: the changed version is kept (nothing lost)
      flow(p, l ? "local" : "remote", l ?? r, undefined);
      continue;
    }
    let winner: Side | "manual" =
      i.direction === "push"
        ? "local"
        : i.direction === "pull"
          ? "remote"
          : i.conflict === "manual"
            ? "manual"
            : "local";
    if (i.direction === "bidirectional") {
      if (i.conflict === "local" || i.conflict === "remote") winner = i.conflict;
      if (i.conflict === "newest") {
        const d = l.mtimeMs - r.mtimeMs;
        winner = Math.abs(d) <= i.windowMs ? "manual" : d > 0 ? "local" : "remote";
      }
    }
    const loser: Side = winner === "manual" ? (r.mtimeMs <= l.mtimeMs ? "remote" : "local") : other(winner);
    actions.push({ kind: "conflict", path: p, local: l, remote: r, winner, loser, strategy: i.conflict });
  }
  return { actions, settled };
}
