import { existsSync, statSync } from "node:fs";
import path from "node:path";
import type { LoadedConfig } from "../config/load-config.js";
import { replicaLockName } from "../ledger/meta-keys.js";
import type { BreakerRecord } from "../ledger/types.js";
import { hasManifest } from "../replicas/manifest-match.js";
import { MARKER } from "../replicas/names.js";
import { configuredTargets, type ResolvedTarget } from "../replicas/targets.js";
import { check, worst, type CheckResult, type HealthStatus } from "./types.js";

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

/** The target's breaker (`replica:<replica>:<target>`), or null when it never failed or was not read. */
function readBreaker(
  breakers: ReadonlyMap<string, BreakerRecord> | undefined,
  name: string,
): TargetBreaker | null {
  const b = breakers?.get(name);
  if (!b) return null;
  const openUntil = b.openUntil === null ? null : new Date(b.openUntil).toISOString();
  return { state: b.state, isolated: b.isolated, openUntil, reason: b.reason };
}

function breakerProblem(b: TargetBreaker): string {
  const state = b.isolated ? "isolated" : b.state === "open" ? `open until ${b.openUntil ?? "?"}` : b.state;
  return `breaker ${state}${b.reason ? ` (${b.reason})` : ""}`;
}

function targetHealth(
  t: ResolvedTarget,
  breakers: ReadonlyMap<string, BreakerRecord> | undefined,
): TargetHealth {
  const name = replicaLockName(t);
  const breaker = readBreaker(breakers, name);
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
 * breakers are given when the ledger could be read, else left out.
 */
export function checkReplicas(loaded: LoadedConfig, breakers?: readonly BreakerRecord[]): CheckResult {
  const byName = breakers && new Map(breakers.map((b) => [b.provider, b]));
  const targets = configuredTargets(loaded).map((t) => targetHealth(t, byName));
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
