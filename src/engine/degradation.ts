import type { Degradation } from "../results.js";

/** What a run's phases stored, as counted at its end. */
export interface Stored {
  /** The run ended (completed or partial), rather than failed, cancelled or interrupted. */
  finished: boolean;
  /** Items COMPLETED (stored) in its phases. */
  stored: number;
  /** Of those, items of phases with enrich steps. */
  enrichable: number;
  /** Of those, items stored raw (their enrich provider was unavailable). */
  raw: number;
  /** Items failed or dead, or debts left unpaid. */
  troubled: boolean;
}

/** Degradation describes what was stored: a run that stopped early never reports `full`. */
export function degradationOf(s: Stored): Degradation {
  if (!s.finished && s.stored === 0) return "none";
  if (s.raw > 0 && s.raw >= s.enrichable) return "raw_only";
  return !s.finished || s.troubled || s.raw > 0 ? "partial" : "full";
}
