import type { BreakerRecord } from "../ledger/types.js";
import { check, type CheckResult } from "./types.js";

/**
 * Open (and half-open) circuit breakers of providers. doctor only reports them: a breaker whose open
 * period passed moves itself to half_open on the next call (with the cross-process probe lease), so a
 * repair that moved it would only race the providers' own callers. Replica targets' breakers
 * (`replica:<replica>:<target>`) are reported by the replicas check.
 */
export function checkBreakers(breakers: readonly BreakerRecord[], now: number): CheckResult {
  const rows = breakers.filter((b) => b.state !== "closed" && !b.provider.startsWith("replica:"));
  if (rows.length === 0) return check("breakers", "ok", "every circuit breaker is closed", { open: [] });
  const open = rows.map((r) => ({
    provider: r.provider,
    state: r.state,
    isolated: r.isolated,
    openUntil: r.openUntil === null ? null : new Date(r.openUntil).toISOString(),
    elapsed: r.openUntil !== null && r.openUntil <= now,
    reason: r.reason,
  }));
  const text = open
    .map(
      (b) =>
        `${b.provider} ${b.isolated ? "isolated (breakers reset)" : b.state === "open" ? (b.elapsed ? "open, probes on next call" : `open until ${b.openUntil ?? "?"}`) : b.state}`,
    )
    .join(", ");
  return check("breakers", "warning", `${rows.length} breakers not closed: ${text}`, { open });
}
