import { UsageError } from "../../errors.js";
import { replicaLockName, targetBreaker } from "../../replicas/replicate.js";
import { configuredTargets, replicaStatus, type ReplicaTargetStatus } from "../../replicas/target-status.js";
import type { CircuitBreaker } from "../../resilience/circuit-breaker.js";
import { providerHealth, type ProviderHealth } from "../../service/status.js";
import type { SyncService } from "../../service/sync-service.js";
import { printJson, withService, type GlobalOptions } from "../context.js";

export function renderHealth(h: ProviderHealth): string {
  const b = h.breaker;
  const state = b.isolated
    ? "open (isolated)"
    : b.state === "open"
      ? `open until ${b.openUntil ?? "?"}`
      : b.state;
  return `${h.provider}: breaker ${state}${b.failures > 0 && b.state === "closed" ? ` (${b.failures} consecutive failures)` : ""}${
    h.gate ? `; paused until ${h.gate.pausedUntil ?? "?"} (${h.gate.reason ?? "rate limit"})` : ""
  }${b.reason && b.state !== "closed" ? `; ${b.reason}` : ""}`;
}

/** `target replica:notes:drive → /mnt/usb/notes: breaker open until …` */
const renderTarget = (r: ReplicaTargetStatus): string =>
  `target ${renderHealth({ provider: `${r.name} → ${r.path}`, breaker: r.breaker, gate: null })}`;

/** --json: one array, providers as before, then replica targets; `provider` is the name reset/isolate take. */
const targetJson = (r: ReplicaTargetStatus) => ({
  kind: "target" as const,
  provider: r.name,
  replica: r.replica,
  target: r.target,
  path: r.path,
  breaker: r.breaker,
  gate: null,
});

export async function breakersCommand(opts: GlobalOptions & { json?: boolean }): Promise<number> {
  return withService(opts, async (service) => {
    const health = await providerHealth(service);
    const targets = await replicaStatus(service.ledger, service.loaded);
    const lines = [...health.map(renderHealth), ...targets.map(renderTarget)];
    if (opts.json)
      printJson([...health.map((h) => ({ kind: "provider" as const, ...h })), ...targets.map(targetJson)]);
    else
      process.stdout.write(
        lines.length === 0 ? "no providers or replica targets configured\n" : lines.join("\n") + "\n",
      );
    return 0;
  });
}

/** A configured provider's breaker, or a configured replica target's (`replica:<replica>:<target>`; no provider name holds a colon). */
function namedBreaker(service: SyncService, name: string): CircuitBreaker {
  const targets = configuredTargets(service.loaded);
  const target = targets.find((t) => replicaLockName(t) === name);
  if (target) return targetBreaker(service.ledger, target, service.owner);
  if (service.providers.names().includes(name)) return service.providers.policy(name).breaker;
  const list = (names: string[]): string => names.join(", ") || "(none configured)";
  throw new UsageError(
    `unknown breaker "${name}"; providers: ${list(service.providers.names())}; replica targets: ${list(targets.map(replicaLockName))}`,
  );
}

export async function breakerActionCommand(
  action: "reset" | "isolate",
  name: string,
  opts: GlobalOptions,
): Promise<number> {
  return withService(opts, async (service) => {
    const breaker = namedBreaker(service, name);
    await (action === "reset" ? breaker.reset() : breaker.isolate());
    process.stderr.write(
      `${name}: breaker ${action === "reset" ? "reset to closed" : "isolated (open until reset)"}\n`,
    );
    return 0;
  });
}
