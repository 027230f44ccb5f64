/** At most `limit` concurrent calls; others queue (FIFO) until a slot frees or their signal aborts. */
export class Bulkhead {
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Resolves once the call holds a slot: true when one was free at once, false after queueing. */
  async acquire(signal?: AbortSignal): Promise<boolean> {
    signal?.throwIfAborted();
    if (this.active < this.limit) {
      this.active++;
      return true;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const i = this.queue.indexOf(grant);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal!.reason as Error);
      };
      this.queue.push(grant);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    // the releasing call handed its slot over: active stays the same
    return false;
  }

  /** Calls holding a slot now. */
  get inUse(): number {
    return this.active;
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.active--;
  }
}
