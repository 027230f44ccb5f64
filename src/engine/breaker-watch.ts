import type { ResilienceStore } from "../ledger/resilience-store.js";
import { sleep } from "../resilience/sleep.js";

/** How often a run waiting out an open breaker reads it again: a reset from any process is noticed this soon. */
export const BREAKER_POLL_MS = 1000;

/**
 * The breakers that deferred a run's items. While the run waits, it reads them (the shared state, one
 * read each) on a short interval, so a breaker reset by hand (or closed by another process) ends the
 * wait instead of the open period it was deferred for. Calls through a closed breaker never come here.
 */
export class BreakerWatch {
  private readonly blocking = new Set<string>();

  constructor(
    private readonly store: Pick<ResilienceStore, "readCallState">,
    private readonly pollMs = BREAKER_POLL_MS,
  ) {}

  /** An open breaker of `provider` deferred an item. */
  deferredBy(provider: string): void {
    this.blocking.add(provider);
  }

  /**
   * Sleeps up to `ms`: true as soon as a breaker that deferred items lets calls through again (it is
   * forgotten until it defers items anew); false when the time ran out or the signal aborted.
   */
  async wait(ms: number, signal: AbortSignal): Promise<boolean> {
    const until = Date.now() + ms;
    // bounded by time: each turn sleeps up to pollMs of what is left
    for (let left = ms; left > 0 && !signal.aborted; left = until - Date.now()) {
      if (this.blocking.size === 0) {
        await sleep(left, signal);
        return false;
      }
      await sleep(Math.min(left, this.pollMs), signal);
      if (await this.released()) return true;
    }
    return false;
  }

  /** Forgets (and reports) the watched breakers that no longer hold calls back. */
  private async released(): Promise<boolean> {
    let any = false;
    for (const provider of [...this.blocking]) {
      const { breaker: b, now } = await this.store.readCallState(provider);
      const holding =
        b !== undefined && b.state === "open" && (b.isolated || b.openUntil === null || now < b.openUntil);
      if (!holding) {
        this.blocking.delete(provider);
        any = true;
      }
    }
    return any;
  }
}
