import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";
import type { LoadedConfig } from "../config/load-config.js";
import { hasManifest } from "../replicas/manifest-match.js";
import { replicaLockName } from "../replicas/replicate.js";
import type { ResolvedTarget } from "../replicas/run-target.js";
import { MARKER } from "../replicas/names.js";
import { configuredTargets } from "../replicas/target-status.js";
import { check, worst, type CheckResult, type HealthStatus } from "./types.js";

interface BreakerRow {
  state: string;
  open_until: number | null;
  isolated: number;
  reason: string | null;
}

interface TargetHealth {
  name: string;
  path: string;
  status: HealthStatus;
  problems: string[];
  breaker: { state: string; isolated: boolean; openUntil: string | null; reason: string | null } | null;
}

const isDir = (p: string): boolean => statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** The target folder: missing is unreachable; present without the marker after a sync is the wrong folder. */
function folderProblem(t: ResolvedTarget): { status: HealthStatus; problem: string } | undefined {
  if (!isDir(t.remoteRoot))
    return {
      status: "warning",
      problem: `target folder ${t.remoteRoot} is missing (unreachable or unmounted)`,
    };
  if (existsSync(path.join(t.remoteRoot, MARKER))) return undefined;
  // never synced: the first run creates the marker
  if (!hasManifest(t.stateDir, t.replica, t.target)) return undefined;
  return {
    status: "critical",
    problem: `${t.remoteRoot} has no ${MARKER} marker though it was synced before: the wrong folder or an unmounted mount point (replicate refuses it)`,
  };
}

type TargetBreaker = NonNullable<TargetHealth["breaker"]>;

/** The target's breaker row (`replica:<replica>:<target>`), or null when it never failed or no db. */
function readBreaker(db: Database.Database | undefined, name: string): TargetBreaker | null {
  const row = db
    ?.prepare<[string], BreakerRow>(
      "SELECT state, open_until, isolated, reason FROM breakers WHERE provider = ?",
    )
    .get(name);
  if (!row) return null;
  const openUntil = row.open_until === null ? null : new Date(row.open_until).toISOString();
  return { state: row.state, isolated: row.isolated === 1, openUntil, reason: row.reason };
}

function breakerProblem(b: TargetBreaker): string {
  const state = b.isolated ? "isolated" : b.state === "open" ? `open until ${b.openUntil ?? "?"}` : b.state;
  return `breaker ${state}${b.reason ? ` (${b.reason})` : ""}`;
}

function targetHealth(t: ResolvedTarget, db: Database.Database | undefined): TargetHealth {
  const name = replicaLockName(t);
  const breaker = readBreaker(db, name);
  const folder = folderProblem(t);
  const statuses: HealthStatus[] = [folder?.status ?? "ok"];
  const problems = folder ? [folder.problem] : [];
  if (breaker && breaker.state !== "closed") {
    statuses.push("warning");
    problems.push(breakerProblem(breaker));
  }
  return { name, path: t.remoteRoot, status: worst(statuses), problems, breaker };
}

/**
 * Every configured replica target: reachable, carrying its marker once synced, breaker closed. The
 * breakers are read from the database when it could be opened (`db`), else left out.
 */
export function checkReplicas(loaded: LoadedConfig, db: Database.Database | undefined): CheckResult {
  const targets = configuredTargets(loaded).map((t) => targetHealth(t, db));
  if (targets.length === 0) return check("replicas", "ok", "no replica targets configured", { targets });
  const status = worst(targets.map((t) => t.status));
  if (status === "ok")
    return check("replicas", "ok", `${targets.length} replica targets reachable, breakers closed`, {
      targets,
    });
  const text = targets
    .filter((t) => t.status !== "ok")
    .map((t) => `${t.name}: ${t.problems.join("; ")}`)
    .join(", ");
  return check("replicas", status, text, { targets });
}
