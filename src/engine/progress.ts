import type { ClaimedItem, ItemStatus, StatusCounts } from "../ledger/types.js";
import type { EventBus } from "../events.js";
import type { Progress } from "../results.js";

/** Keeps a phase's counts in memory (no database query per tick) and emits them at an interval. */
export class ProgressTracker {
  private readonly startedAt = Date.now();
  private finishedThisRun = 0;
  private readonly settledThisRun = { completed: 0, skipped: 0, failed: 0, dead: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly job: string,
    private readonly phase: string,
    private readonly counts: StatusCounts,
    private readonly events: EventBus,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => this.events.emit("progress", { ...this.snapshot() }), intervalMs);
    this.timer.unref();
  }

  claimed(items: readonly ClaimedItem[]): void {
    for (const it of items) {
      // attempts > 0 means the item came back from FAILED; a redrive resets attempts to 0
      if (it.attempts > 0 && this.counts.FAILED > 0) this.counts.FAILED--;
      else if (this.counts.PENDING > 0) this.counts.PENDING--;
      this.counts.PROCESSING++;
    }
  }

  settled(status: ItemStatus): void {
    if (this.counts.PROCESSING > 0) this.counts.PROCESSING--;
    this.counts[status]++;
    if (status !== "FAILED") this.finishedThisRun++;
    if (status === "COMPLETED") this.settledThisRun.completed++;
    else if (status === "SKIPPED") this.settledThisRun.skipped++;
    else if (status === "FAILED") this.settledThisRun.failed++;
    else if (status === "DEAD") this.settledThisRun.dead++;
  }

  snapshot(): Progress {
    const c = this.counts;
    const total = c.PENDING + c.PROCESSING + c.COMPLETED + c.SKIPPED + c.FAILED + c.DEAD;
    const done = c.COMPLETED + c.SKIPPED + c.DEAD;
    const elapsed = (Date.now() - this.startedAt) / 1000;
    const rate = elapsed > 0 ? this.finishedThisRun / elapsed : 0;
    const left = total - done;
    return {
      job: this.job,
      phase: this.phase,
      total,
      completed: c.COMPLETED,
      skipped: c.SKIPPED,
      failed: c.FAILED,
      dead: c.DEAD,
      pending: c.PENDING,
      processing: c.PROCESSING,
      percent: total === 0 ? 100 : Math.round((done / total) * 1000) / 10,
      itemsPerSecond: Math.round(rate * 10) / 10,
      etaSeconds: rate > 0 ? Math.round(left / rate) : left === 0 ? 0 : null,
      settled: { ...this.settledThisRun },
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.events.emit("progress", { ...this.snapshot() });
  }
}
