import { afterEach, beforeEach, describe } from "vitest";
import { claimsContract } from "./claims.js";
import { documentsContract } from "./documents.js";
import { eventsContract, metaContract } from "./events-meta.js";
import type { ContractOptions, Harness, LedgerHarness } from "./harness.js";
import { leasesContract } from "./leases.js";
import { listingsContract } from "./listings.js";
import { locksContract } from "./locks.js";
import { maintenanceContract } from "./maintenance.js";
import { plansContract } from "./plans.js";
import { resilienceContract } from "./resilience.js";
import { runsContract } from "./runs.js";

export type { ContractOptions, LedgerHarness } from "./harness.js";

/**
 * Registers the ledger contract, one `describe` per role store, against an implementation: `open` gives
 * each test a fresh, empty store (and a way to open more handles on it); `cleanup` runs after each test.
 */
export function ledgerContract(
  name: string,
  open: () => Promise<LedgerHarness>,
  options: ContractOptions,
): void {
  describe(`ledger contract: ${name}`, () => {
    let current: LedgerHarness | undefined;
    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      const h = current;
      current = undefined;
      await h?.cleanup();
    });
    const harness: Harness = () => {
      if (current === undefined) throw new Error("the contract's store is opened per test");
      return current;
    };

    runsContract(harness, options);
    plansContract(harness, options);
    claimsContract(harness);
    leasesContract(harness);
    listingsContract(harness);
    locksContract(harness);
    eventsContract(harness);
    metaContract(harness);
    resilienceContract(harness, options);
    maintenanceContract(harness);
    documentsContract(harness, options);
  });
}
