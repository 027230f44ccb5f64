import type { DocumentStore } from "./document-store.js";
import type { EventStore } from "./event-store.js";
import type { KnowledgeStore } from "./knowledge.js";
import type { LedgerTables } from "./ledger-tables.js";
import type { LockStore } from "./lock-store.js";
import type { MaintenanceStore } from "./maintenance-store.js";
import type { MetaStore } from "./meta-store.js";
import type { PlanStore } from "./plan-store.js";
import type { ResilienceStore } from "./resilience-store.js";
import type { RunStore } from "./run-store.js";

/**
 * The durable store behind every guarantee, as small role stores (each with its own contract, proved
 * by test/ledger-contract on every implementation). Async so that a networked implementation fits
 * without changes above it. `openLedger(config)` returns one; nothing above src/ledger names an
 * implementation.
 */
export interface Ledger {
  /** Where this ledger keeps its data, for messages. */
  readonly location: string;
  readonly runs: RunStore;
  readonly plans: PlanStore;
  readonly locks: LockStore;
  readonly events: EventStore;
  readonly meta: MetaStore;
  readonly resilience: ResilienceStore;
  readonly maintenance: MaintenanceStore;
  /** The document store embedded in the ledger's own database, when this implementation has one (sqlite-docs writes into it). */
  readonly documents?: DocumentStore;
  /** Episodes, entities and facts beside the documents (written through them as `KnowledgeWrite`s), when this implementation has them. */
  readonly knowledge?: KnowledgeStore;
  /**
   * Raw access to every table, for `copyLedger` only (the role stores are the way to read and write).
   * A member rather than a lookup by implementation: one line in each, typed by a neutral interface, so
   * nothing above src/ledger names one. Optional so that a ledger without it (a test double) still fits.
   */
  readonly tables?: LedgerTables;
  close(): Promise<void>;
}
