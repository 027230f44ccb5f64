import { UsageError } from "../../errors.js";
import type { BreakerRecord, GateRecord } from "../../ledger/types.js";
import type { SyncService } from "../../service/sync-service.js";
import { printJson, withService, type GlobalOptions } from "../context.js";

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export interface ProviderHealth {
  provider: string;
  breaker: {
    state: string;
    failures: number;
    openUntil: string | null;
    reopenCount: number;
    isolated: boolean;
    reason: string | null;
  };
  gate: { pausedUntil: string | null; reason: string | null } | null;
}

/** Breaker and rate-gate state of every configured provider (and any the ledger remembers). */
export async function providerHealth(service: SyncService): Promise<ProviderHealth[]> {
  const breakers = new Map<string, BreakerRecord>(
    (await service.ledger.listBreakers()).map((b) => [b.provider, b]),
  );
  const gates = new Map<string, GateRecord>((await service.ledger.listGates()).map((g) => [g.provider, g]));
  const names = [...new Set([...service.providers.names(), ...breakers.keys()])].sort();
  return names.map((provider) => {
    const b = breakers.get(provider);
    const g = gates.get(provider);
    return {
      provider,
      breaker: {
        state: b?.state ?? "closed",
        failures: b?.failures ?? 0,
        openUntil: iso(b?.openUntil ?? null),
        reopenCount: b?.reopenCount ?? 0,
        isolated: b?.isolated ?? false,
        reason: b?.reason ?? null,
      },
      gate: g && g.pausedUntil > Date.now() ? { pausedUntil: iso(g.pausedUntil), reason: g.reason } : null,
    };
  });
}

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

export async function breakersCommand(opts: GlobalOptions & { json?: boolean }): Promise<number> {
  return withService(opts, async (service) => {
    const health = await providerHealth(service);
    if (opts.json) printJson(health);
    else
      process.stdout.write(
        health.length === 0 ? "no providers configured\n" : health.map(renderHealth).join("\n") + "\n",
      );
    return 0;
  });
}

export async function breakerActionCommand(
  action: "reset" | "isolate",
  name: string,
  opts: GlobalOptions,
): Promise<number> {
  return withService(opts, async (service) => {
    if (!service.providers.names().includes(name)) {
      throw new UsageError(
        `unknown provider "${name}"; providers: ${service.providers.names().join(", ") || "(none configured)"}`,
      );
    }
    const breaker = service.providers.policy(name).breaker;
    await (action === "reset" ? breaker.reset() : breaker.isolate());
    process.stderr.write(
      `${name}: breaker ${action === "reset" ? "reset to closed" : "isolated (open until reset)"}\n`,
    );
    return 0;
  });
}
