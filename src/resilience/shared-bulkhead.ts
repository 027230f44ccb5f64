import type { ResilienceStore } from "../ledger/resilience-store.js";
import { sleep } from "./sleep.js";

/** How long to wait, at most, between two looks for a free slot. */
const MAX_POLL_MS = 100;

/**
 * At most `limit` calls in flight across every process on the ledger (a GitHub token's concurrent
 * requests): each call holds a slot, a lease in the ledger that expires on its own when its process
 * dies. A call that finds none free looks again after a short, growing, jittered wait.
 */
export class SharedBulkhead {
  private seq = 0;

  constructor(
    private readonly key: string,
    private readonly store: ResilienceStore,
    private readonly limit: number,
    private readonly leaseMs: number,
    private readonly owner: string,
  ) {}

  /** A slot's name, once one is held. */
  async acquire(signal?: AbortSignal): Promise<{ slot: string }> {
    for (let i = 0; ; i++) {
      const slot = `${this.owner}:${this.seq++}`;
      if (await this.store.acquireProbe(this.key, slot, this.limit, this.leaseMs)) return { slot };
      await sleep(5 + Math.random() * Math.min(MAX_POLL_MS, 5 * 2 ** Math.min(i, 5)), signal);
      signal?.throwIfAborted();
    }
  }

  release(slot: string): Promise<void> {
    return this.store.releaseProbe(this.key, slot);
  }
}
