import type { LoadedConfig } from "../config/load-config.js";
import { isConfigError } from "../errors.js";
import type { Ledger } from "../ledger/ledger.js";
import { breakerHealth, type BreakerHealth } from "../service/status.js";
import type { Direction } from "./reconcile.js";
import { replicaLastSuccess, replicaLockName, resolveTargets } from "./replicate.js";
import type { ResolvedTarget } from "./run-target.js";

/** One replica target as `status` shows it. */
export interface ReplicaTargetStatus {
  /** `replica:<replica>:<target>`, the name of its breaker and lock. */
  name: string;
  replica: string;
  target: string;
  /** The target folder, resolved against the config file. */
  path: string;
  direction: Direction;
  breaker: BreakerHealth;
  /** When a run on it last ended ok (ISO time), or null. */
  lastSuccess: string | null;
}

/** Every configured replica target; none (rather than a ConfigError) when no replicas are configured. */
export function configuredTargets(loaded: LoadedConfig): ResolvedTarget[] {
  try {
    return resolveTargets(loaded);
  } catch (e) {
    if (isConfigError(e)) return [];
    throw e;
  }
}

/** Breaker and last success of every configured replica target, read from the ledger. */
export async function replicaStatus(ledger: Ledger, loaded: LoadedConfig): Promise<ReplicaTargetStatus[]> {
  const out: ReplicaTargetStatus[] = [];
  for (const t of configuredTargets(loaded)) {
    const name = replicaLockName(t);
    out.push({
      name,
      replica: t.replica,
      target: t.target,
      path: t.remoteRoot,
      direction: t.direction,
      breaker: breakerHealth(await ledger.readBreaker(name)),
      lastSuccess: await replicaLastSuccess(ledger, t),
    });
  }
  return out;
}
