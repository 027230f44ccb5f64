import type { PlanStore } from "../ledger/plan-store.js";
import type { Settlement } from "../ledger/types.js";

/**
 * Group commit: settlements are written in one transaction per batch, or after a short delay, or carried
 * by the next claim (take): one commit for the batch done and the batch claimed.
 */
export class SettleBuffer {
  private pending: Settlement[] = [];
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly plans: PlanStore,
    private readonly maxBatch: number,
    private readonly maxDelayMs: number,
  ) {}

  /** Buffers a settlement; returns the flush to wait for when the batch is full (else nothing to wait for). */
  add(s: Settlement): Promise<void> | undefined {
    if (this.failure !== undefined) throw this.failure;
    this.pending.push(s);
    if (this.pending.length >= this.maxBatch) return this.flush();
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.maxDelayMs);
    return undefined;
  }

  /** Hands over what is buffered (the next claim writes it), once earlier flushes are written. */
  async take(): Promise<Settlement[]> {
    await this.flushing;
    if (this.failure !== undefined) throw this.failure;
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    return batch;
  }

  /** Writes everything buffered; rethrows a write failure so the phase stops rather than losing track. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0 || this.failure !== undefined) return;
      try {
        await this.plans.settle(batch);
      } catch (e) {
        this.failure = e instanceof Error ? e : new Error(String(e));
      }
    });
    return this.flushing.then(() => {
      if (this.failure !== undefined) throw this.failure;
    });
  }
}
