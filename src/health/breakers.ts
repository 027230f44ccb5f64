import type Database from "better-sqlite3";
import { check, type CheckResult } from "./types.js";

interface BreakerRow {
  provider: string;
  state: string;
  open_until: number | null;
  isolated: number;
  reason: string | null;
}

/**
 * Open (and half-open) circuit breakers. doctor only reports them: a breaker whose open period
 * passed moves itself to half_open on the next call (with the cross-process probe lease), so a
 * repair that moved it would only race the providers' own callers. Replica targets' breakers
 * (`replica:<replica>:<target>`) are reported by the replicas check.
 */
export function checkBreakers(db: Database.Database, now: number): CheckResult {
  const rows = db
    .prepare<[], BreakerRow>(
      "SELECT provider, state, open_until, isolated, reason FROM breakers WHERE state != 'closed' AND provider NOT LIKE 'replica:%' ORDER BY provider",
    )
    .all();
  if (rows.length === 0) return check("breakers", "ok", "every circuit breaker is closed", { open: [] });
  const open = rows.map((r) => ({
    provider: r.provider,
    state: r.state,
    isolated: r.isolated === 1,
    openUntil: r.open_until === null ? null : new Date(r.open_until).toISOString(),
    elapsed: r.open_until !== null && r.open_until <= now,
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
