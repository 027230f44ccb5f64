import { collectDefaultMetrics, Registry } from "prom-client";
import type { LoadedConfig } from "../config/load-config.js";
import type { EventBus } from "../events.js";
import type { Ledger } from "../ledger/ledger.js";
import { readLedgerGauges, type GaugeSample } from "./gauge-readings.js";
import { GaugeThread } from "./gauge-thread.js";
import { EventCounters } from "./metric-events.js";
import { LedgerGauges } from "./metric-gauges.js";

/** A Prometheus exposition: the body and the content type to serve it with. */
export interface Exposition {
  contentType: string;
  body: string;
}

/**
 * syncwarden's Prometheus metrics in a registry of their own (never prom-client's global one): Node's
 * process metrics, counters of what this process did (fed by the event map) and gauges of what the
 * ledger holds (read at scrape time). `dispose()` ends the subscription.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly counters: EventCounters;
  private readonly gauges: LedgerGauges;
  /** Reads a SQLite ledger off the main thread (in the build); PostgreSQL's reads are network waits already. */
  private readonly thread: GaugeThread | undefined;
  private readonly read: () => Promise<GaugeSample[]>;

  constructor(loaded: LoadedConfig, ledger: Ledger, events: EventBus) {
    collectDefaultMetrics({ register: this.registry });
    this.counters = new EventCounters(events, [this.registry]);
    this.gauges = new LedgerGauges([this.registry]);
    const jobs = Object.fromEntries(
      Object.entries(loaded.config.jobs).map(([job, c]) => [job, c.phases.map((p) => p.name)]),
    );
    const thread =
      !loaded.ledger && GaugeThread.available() ? new GaugeThread(loaded.stateDir, jobs) : undefined;
    this.thread = thread;
    this.read = thread ? () => thread.read() : () => readLedgerGauges(jobs, ledger);
  }

  /** The text exposition, with the ledger's gauges read now. */
  async render(): Promise<Exposition> {
    this.gauges.apply(await this.read());
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  dispose(): void {
    this.counters.dispose();
    void this.thread?.close();
  }
}
