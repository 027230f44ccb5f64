import { UsageError } from "../../errors.js";
import { providerHealth, type ProviderHealth } from "../../service/status.js";
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
