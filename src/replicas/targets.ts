import path from "node:path";
import type { LoadedConfig } from "../config/load-config.js";
import { ConfigError, isConfigError, UsageError } from "../errors.js";
import type { ConflictStrategy, Direction } from "./reconcile.js";
import type { ScanOptions } from "./scan.js";

// Replica targets as a run sees them, resolved from the configuration. Kept free of the SQLite library
// and the copy code, so the CLI can start walking a target while those load.

/** A replica target with its paths resolved and the command line's overrides applied. */
export interface ResolvedTarget {
  replica: string;
  target: string;
  localRoot: string;
  remoteRoot: string;
  stateDir: string;
  direction: Direction;
  conflict: ConflictStrategy;
  maxDelete: number;
  windowMs: number;
}

/**
 * When a replica's folder is the state folder, the live `state.db` is never reconciled (each machine
 * has its own ledger); instead a verified snapshot of it is pushed to each target, under this folder,
 * one file per machine. doctor --repair restores from the newest of these and of `backups/`.
 */
export const SNAPSHOT_DIR = ".syncwarden-snapshots";

/** True when the replica's folder is the state folder (its `state.db` is snapshotted, not reconciled). */
export const ownsState = (t: ResolvedTarget): boolean =>
  path.resolve(t.localRoot) === path.resolve(t.stateDir);

/** The same options serve both roots: each root's snapshot folder is listed (absolute paths). */
export function scanOptions(t: ResolvedTarget, removeTemps: boolean): ScanOptions {
  return {
    excludeDirs: [
      path.join(t.stateDir, "replicas"),
      path.join(t.stateDir, "backups"),
      path.join(t.localRoot, SNAPSHOT_DIR),
      path.join(t.remoteRoot, SNAPSHOT_DIR),
    ],
    excludeFiles: ownsState(t) ? ["state.db"] : [],
    removeTemps,
  };
}

export interface ReplicateOverrides {
  direction?: Direction;
  conflict?: ConflictStrategy;
}

/** Every target of the named replica (or of all replicas), paths resolved against the config file. */
export function resolveTargets(
  loaded: LoadedConfig,
  name?: string,
  o: ReplicateOverrides = {},
): ResolvedTarget[] {
  const replicas = loaded.config.replicas;
  const names = Object.keys(replicas);
  if (names.length === 0) throw new ConfigError(`${loaded.file}: no replicas: configured`);
  if (name !== undefined && !names.includes(name))
    throw new UsageError(`unknown replica "${name}"; replicas: ${names.join(", ")}`);
  return (name === undefined ? names : [name]).flatMap((r) => {
    const rc = replicas[r]!;
    const localRoot = rc.folder === undefined ? loaded.stateDir : path.resolve(loaded.baseDir, rc.folder);
    return rc.targets.map((t) => ({
      replica: r,
      target: t.name,
      localRoot,
      remoteRoot: path.resolve(loaded.baseDir, t.path),
      stateDir: loaded.stateDir,
      direction: o.direction ?? t.direction,
      conflict: o.conflict ?? t.conflict,
      maxDelete: t.max_delete,
      windowMs: t.modtime_window * 1000,
    }));
  });
}

/** Every configured target; none (rather than a ConfigError) when no replicas are configured. */
export function configuredTargets(loaded: LoadedConfig): ResolvedTarget[] {
  try {
    return resolveTargets(loaded);
  } catch (e) {
    if (isConfigError(e)) return [];
    throw e;
  }
}
