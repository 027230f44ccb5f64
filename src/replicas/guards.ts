import { statfsSync } from "node:fs";
import type { Side } from "./manifest.js";
import type { Action, Plan } from "./reconcile.js";

/** Refuses when a side holds nothing while the manifest says it held files (unmounted, wiped, wrong folder). */
export function emptiedSide(
  cur: { local: number; remote: number },
  prev: { local: number; remote: number },
): string | undefined {
  for (const s of ["local", "remote"] as const) {
    if (cur[s] === 0 && prev[s] > 0)
      return `the ${s} side is empty but held ${prev[s]} files at the last sync; refusing (restore it, or delete the manifest to start over)`;
  }
  return undefined;
}

/** Aborts before deleting more than maxPct percent of either side. */
export function tooManyDeletes(
  plan: Plan,
  size: { local: number; remote: number },
  maxPct: number,
): string | undefined {
  for (const s of ["local", "remote"] as const) {
    const n = plan.actions.filter((a) => a.kind === "delete" && a.on === s).length;
    if (n > 0 && size[s] > 0 && (n / size[s]) * 100 > maxPct)
      return `would delete ${n} of ${size[s]} files on the ${s} side (${Math.round((n / size[s]) * 100)}% > max_delete ${maxPct}%); rerun with --force if that is intended`;
  }
  return undefined;
}

const fold = (p: string): string => p.normalize("NFC").toLowerCase();

/** What a side holds now, as the collision check asks it. */
export interface SideFiles {
  has(p: string): boolean;
  paths(): Iterable<string>;
}

/**
 * New names a side would receive that collide with another name there by case or Unicode
 * normalisation. A copy over a file of the same name creates no name, so only copies of paths the side
 * lacks are checked (and the side's names are folded only when there are some).
 */
export function collisions(plan: Plan, cur: Record<Side, SideFiles>): string[][] {
  const found: string[][] = [];
  for (const side of ["local", "remote"] as const) {
    const incoming = new Set(
      plan.actions.flatMap((a) =>
        a.kind === "copy" && a.to === side && !cur[side].has(a.path) ? [a.path] : [],
      ),
    );
    if (incoming.size === 0) continue;
    const deleted = new Set(
      plan.actions.filter((a) => a.kind === "delete" && a.on === side).map((a) => a.path),
    );
    const groups = new Map<string, Set<string>>();
    for (const p of [...cur[side].paths(), ...incoming]) {
      if (deleted.has(p)) continue;
      const g = groups.get(fold(p)) ?? new Set<string>();
      g.add(p);
      groups.set(fold(p), g);
    }
    for (const g of groups.values())
      if (g.size > 1 && [...g].some((p) => incoming.has(p))) found.push([...g].sort());
  }
  return found;
}

/** Replaces the copies into colliding names by skips (reported, nothing written). */
export function blockCollisions(plan: Plan, groups: string[][]): void {
  const blocked = new Set(groups.flat());
  plan.actions = plan.actions.map((a): Action =>
    (a.kind === "copy" || a.kind === "conflict") && blocked.has(a.path)
      ? { kind: "skip", path: a.path, reason: "case or Unicode-normalisation collision" }
      : a,
  );
}

/** Refuses to start copying into a side whose volume lacks the room (with 1% + 16 MiB to spare). */
export function freeSpace(root: string, bytes: number): string | undefined {
  if (bytes === 0) return undefined;
  const st = statfsSync(root);
  const free = st.bavail * st.bsize;
  const need = bytes + bytes / 100 + 16 * 1024 * 1024;
  return free < need
    ? `${root}: ${free} bytes free, ${Math.ceil(need)} needed; refusing to start copying`
    : undefined;
}

export function bytesInto(plan: Plan, side: Side): number {
  let n = 0;
  for (const a of plan.actions) {
    if (a.kind === "copy" && a.to === side) n += a.entry.size;
    if (a.kind === "conflict") n += a.local.size + a.remote.size;
  }
  return n;
}
