import { Gauge, type Registry } from "prom-client";
import type { GaugeName, GaugeSample } from "./gauge-readings.js";

/**
 * The gauges of what the ledger holds, set from readings taken at scrape time (gauge-readings.ts): so a
 * scrape shows runs made by any process on this ledger, and survives restarts.
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

  constructor(registers: Registry[]) {
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

  /** Sets every gauge to the readings (label sets no longer read are dropped). */
  apply(samples: readonly GaugeSample[]): void {
    const gauges: Record<GaugeName, Gauge> = {
      items: this.items,
      queue: this.queue,
      breaker: this.breaker,
      gatePause: this.gatePause,
      gateTokens: this.gateTokens,
      debts: this.debts,
      lastSuccess: this.lastSuccess,
      ledgerBytes: this.ledgerBytes,
    };
    for (const g of Object.values(gauges)) g.reset();
    for (const [name, labels, value] of samples) gauges[name].set(labels, value);
  }
}
