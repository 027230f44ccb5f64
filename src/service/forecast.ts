import type { JobConfig } from "../config/schema.js";
import type { ProviderHealth } from "./status.js";

/** What a run about to start will probably store, from its degradable steps' breakers. */
export interface Forecast {
  /** full: every degradable step's provider is closed; raw_only: one is open (items will be stored raw, owed). */
  degradation: "full" | "raw_only";
  /** The providers whose open breakers say so. */
  down: string[];
}

/**
 * The background's manual sync answers at once with its degradation: a run whose LLM's breaker is open
 * stores raw and owes the extraction. The run's own result says what really happened.
 */
export function forecastDegradation(job: JobConfig, health: readonly ProviderHealth[]): Forecast {
  const providers = new Set(
    job.phases.flatMap((p) => p.enrich.filter((e) => e.degradable && e.provider).map((e) => e.provider!)),
  );
  const down = health
    .filter((h) => providers.has(h.provider) && h.breaker.state === "open")
    .map((h) => h.provider);
  return { degradation: down.length > 0 ? "raw_only" : "full", down };
}
