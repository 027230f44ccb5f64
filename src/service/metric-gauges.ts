import { Gauge, type Registry } from "prom-client";
import type { LoadedConfig } from "../config/load-config.js";
import type { Ledger } from "../ledger/ledger.js";
import { lastSuccessKey } from "../ledger/meta-keys.js";
import { ITEM_STATUSES } from "../ledger/types.js";

const BREAKER_STATE = { closed: 0, half_open: 1, open: 2 } as const;
const QUEUES = [
  ["PENDING", "pending"],
  ["FAILED", "failed"],
  ["DEAD", "dead"],
] as const;

/**
 * What the ledger holds, read at scrape time with cheap aggregate queries through the role stores: so
 * a scrape shows runs made by any process on this ledger, and survives restarts. Every label set is
 * bounded (configured jobs, phases, providers; item statuses); no item key appears.
 */
export class LedgerGauges {
  private readonly items: Gauge<"job" | "phase" | "status">;
  private readonly queue: Gauge<"job" | "state">;
  private readonly breaker: Gauge<"provider">;
  private readonly gatePause: Gauge<"provider">;
  private readonly gateTokens: Gauge<"provider">;
  private readonly debts: Gauge<"job">;
  private readonly lastSuccess: Gauge<"job">;
  private readonly ledgerBytes: Gauge;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly ledger: Ledger,
    registers: Registry[],
  ) {
    const r = { registers };
    this.items = new Gauge({
      ...r,
      name: "syncwarden_plan_items",
      help: "Items of each phase's open (or else last) plan, by status",
      labelNames: ["job", "phase", "status"],
    });
    this.queue = new Gauge({
      ...r,
      name: "syncwarden_queue_items",
      help: "Items waiting per job across its plans: pending, failed (will retry) and dead (parked)",
      labelNames: ["job", "state"],
    });
    this.breaker = new Gauge({
      ...r,
      name: "syncwarden_breaker_state",
      help: "Circuit breaker state per provider (or replica:<replica>:<target>): 0 closed, 1 half-open, 2 open",
      labelNames: ["provider"],
    });
    this.gatePause = new Gauge({
      ...r,
      name: "syncwarden_rate_gate_pause_remaining_seconds",
      help: "Seconds until a provider's shared rate gate reopens (0: open)",
      labelNames: ["provider"],
    });
    this.gateTokens = new Gauge({
      ...r,
      name: "syncwarden_rate_gate_remaining_budget",
      help: "Tokens left in a provider's shared bucket (providers with a rate limit only)",
      labelNames: ["provider"],
    });
    this.debts = new Gauge({
      ...r,
      name: "syncwarden_debts_outstanding",
      help: "Enrich steps owed for items stored raw, per job",
      labelNames: ["job"],
    });
    this.lastSuccess = new Gauge({
      ...r,
      name: "syncwarden_last_success_timestamp_seconds",
      help: "When each job last completed a run (Unix time; absent: never)",
      labelNames: ["job"],
    });
    this.ledgerBytes = new Gauge({
      ...r,
      name: "syncwarden_ledger_size_bytes",
      help: "The ledger's size on disk (database and write-ahead log)",
    });
  }

  /** Reads the ledger and sets every gauge (label sets that no longer exist are dropped). */
  async refresh(): Promise<void> {
    const { plans, resilience, meta, maintenance } = this.ledger;
    const jobs = Object.entries(this.loaded.config.jobs);
    this.items.reset();
    for (const [job, config] of jobs)
      for (const p of config.phases) {
        const ref = { job, phase: p.name, scope: "" };
        const plan = (await plans.findPlan(ref, "open")) ?? (await plans.latestPlan(ref));
        if (!plan) continue;
        const counts = await plans.count(plan.id);
        for (const s of ITEM_STATUSES)
          this.items.set({ job, phase: p.name, status: s.toLowerCase() }, counts[s]);
      }
    this.queue.reset();
    for (const [status, state] of QUEUES) {
      const byJob = await plans.countByJob(status);
      for (const [job] of jobs) this.queue.set({ job, state }, byJob[job] ?? 0);
    }
    this.breaker.reset();
    for (const b of await resilience.listBreakers())
      this.breaker.set({ provider: b.provider }, BREAKER_STATE[b.state]);
    this.gatePause.reset();
    this.gateTokens.reset();
    const now = Date.now();
    for (const g of await resilience.listGates()) {
      this.gatePause.set({ provider: g.provider }, Math.max(0, (g.pausedUntil - now) / 1000));
      if (g.tokens !== null) this.gateTokens.set({ provider: g.provider }, Math.max(0, g.tokens));
    }
    this.debts.reset();
    const debts = await resilience.countDebtsByJob();
    for (const [job] of jobs) this.debts.set({ job }, debts[job] ?? 0);
    this.lastSuccess.reset();
    for (const [job] of jobs) {
      const at = await meta.get(lastSuccessKey(job));
      if (at !== undefined) this.lastSuccess.set({ job }, Date.parse(at) / 1000);
    }
    if (maintenance.exists()) {
      const size = await maintenance.size();
      this.ledgerBytes.set(size.dbBytes + size.walBytes);
    }
  }
}
