import type { Ledger } from "../../src/ledger/ledger.js";

/** One fresh store for one test, as an implementation's test file opens it. */
export interface LedgerHarness {
  /** The handle under test. */
  readonly ledger: Ledger;
  /** Another handle on the same store, standing in for another process (or machine). */
  second(): Promise<Ledger>;
  /** Closes `ledger` and opens the store again: what survives a restart. */
  reopen(): Promise<Ledger>;
  /** Opens a copy written by `maintenance.backup(file)`. */
  openBackup(file: string): Promise<Ledger>;
  /** A temp folder of this test's own, for backups. */
  readonly dir: string;
  /** Closes every handle it opened and removes the store and the temp folder. */
  cleanup(): Promise<void>;
}

/** What the implementation offers and how far its clock may be from this process's. */
export interface ContractOptions {
  /** The ledger has an embedded document store (`ledger.documents`). */
  documents: boolean;
  /** How far the ledger's clock may be from `Date.now()` (a database on another machine may drift). */
  clockToleranceMs: number;
}

/** The current test's harness (opened in `beforeEach`). */
export type Harness = () => LedgerHarness;
