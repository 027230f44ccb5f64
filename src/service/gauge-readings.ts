import type { Ledger } from "../ledger/ledger.js";
import { lastSuccessKey } from "../ledger/meta-keys.js";
import { ITEM_STATUSES } from "../ledger/types.js";

/** The gauges read from the ledger (LedgerGauges names each `syncwarden_…`). */
export type GaugeName =
  "items" | "queue" | "breaker" | "gatePause" | "gateTokens" | "debts" | "lastSuccess" | "ledgerBytes";

/** One reading: the gauge, its labels, its value. Plain data, so a worker thread can send it. */
export type GaugeSample = [gauge: GaugeName, labels: Record<string, string>, value: number];

/** The jobs and their phases (names only): what the readings are labelled by. */
export type JobPhases = Record<string, readonly string[]>;

const BREAKER_STATE = { closed: 0, half_open: 1, open: 2 } as const;
const QUEUES = [
  ["PENDING", "pending"],
  ["FAILED", "failed"],
  ["DEAD", "dead"],
] as const;

/**
 * What the ledger holds, with cheap aggregate queries through the role stores: items of each phase's open
 * (or else last) plan by status, queue depths, breakers, gates, debts, last successes and the ledger's size.
 * Every label set is bounded (configured jobs, phases, providers; item statuses); no item key appears.
 */
export async function readLedgerGauges(jobs: JobPhases, ledger: Ledger): Promise<GaugeSample[]> {
  const { plans, resilience, meta, maintenance } = ledger;
  const out: GaugeSample[] = [];
  const names = Object.keys(jobs);
  for (const [job, phases] of Object.entries(jobs))
    for (const phase of phases) {
      const ref = { job, phase, scope: "" };
      const plan = (await plans.findPlan(ref, "open")) ?? (await plans.latestPlan(ref));
      if (!plan) continue;
      const counts = await plans.count(plan.id);
      for (const s of ITEM_STATUSES) out.push(["items", { job, phase, status: s.toLowerCase() }, counts[s]]);
    }
  for (const [status, state] of QUEUES) {
    const byJob = await plans.countByJob(status);
    for (const job of names) out.push(["queue", { job, state }, byJob[job] ?? 0]);
  }
  for (const b of await resilience.listBreakers())
    out.push(["breaker", { provider: b.provider }, BREAKER_STATE[b.state]]);
  const now = Date.now();
  for (const g of await resilience.listGates()) {
    out.push(["gatePause", { provider: g.provider }, Math.max(0, (g.pausedUntil - now) / 1000)]);
    if (g.tokens !== null) out.push(["gateTokens", { provider: g.provider }, Math.max(0, g.tokens)]);
  }
  const debts = await resilience.countDebtsByJob();
  for (const job of names) out.push(["debts", { job }, debts[job] ?? 0]);
  for (const job of names) {
    const at = await meta.get(lastSuccessKey(job));
    if (at !== undefined) out.push(["lastSuccess", { job }, Date.parse(at) / 1000]);
  }
  if (maintenance.exists()) {
    const size = await maintenance.size();
    out.push(["ledgerBytes", {}, size.dbBytes + size.walBytes]);
  }
  return out;
}
