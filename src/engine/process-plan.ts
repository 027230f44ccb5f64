import type { PhaseConnectors } from "../connectors/build-connectors.js";
import type { ConnectorContext } from "../connectors/types.js";
import type { Ledger } from "../ledger/ledger.js";
import type { ClaimedItem, PlanRecord } from "../ledger/types.js";
import { sleep } from "../resilience/sleep.js";
import type { EngineListener } from "./events.js";
import { isOwnerGone } from "./owner.js";
import { processItem, type ItemPolicy } from "./process-item.js";
import { ProgressTracker } from "./progress.js";
import { SettleBuffer } from "./settle-buffer.js";

export interface ProcessOptions extends ItemPolicy {
  ledger: Ledger;
  connectors: PhaseConnectors;
  ctx: ConnectorContext;
  owner: string;
  workers: number;
  leaseMs: number;
  emit: EngineListener;
  progressIntervalMs: number;
}

/** Claims and processes a plan's items with `workers` in flight until none is left to try (or the signal aborts). */
export async function processPlan(plan: PlanRecord, o: ProcessOptions): Promise<void> {
  const { ledger, ctx, owner, emit } = o;
  const requeued = await ledger.requeueAbandoned(plan.id, Date.now(), isOwnerGone);
  if (requeued > 0) emit({ type: "leases:requeued", job: plan.job, phase: plan.phase, count: requeued });

  const tracker = new ProgressTracker(
    plan.job,
    plan.phase,
    await ledger.countItems(plan.id),
    emit,
    o.progressIntervalMs,
  );
  const buffer = new SettleBuffer(ledger, 256, 100);
  const heartbeat = setInterval(
    () => {
      ledger.renewLeases(plan.id, owner, Date.now() + o.leaseMs).catch(() => undefined);
    },
    Math.max(1000, o.leaseMs / 3),
  );
  heartbeat.unref();
  // large claims keep claim transactions rare; the heartbeat renews every lease held
  const claimBatch = Math.max(256, o.workers * 4);

  const runWorkers = async (): Promise<void> => {
    const queue: ClaimedItem[] = [];
    let exhausted = false;
    let claiming: Promise<void> | undefined;
    const claim = async (): Promise<void> => {
      // let timers (progress, heartbeat) and signal handlers run even when connectors never do real I/O
      await new Promise((r) => setImmediate(r));
      const got = await ledger.claimItems(plan.id, owner, Date.now() + o.leaseMs, claimBatch, Date.now());
      if (got.length === 0) exhausted = true;
      tracker.claimed(got);
      queue.push(...got);
    };
    const next = async (): Promise<ClaimedItem | undefined> => {
      while (queue.length === 0) {
        if (exhausted || ctx.signal.aborted) return undefined;
        claiming ??= claim().finally(() => (claiming = undefined));
        await claiming;
      }
      return ctx.signal.aborted ? undefined : queue.shift();
    };
    const worker = async (): Promise<void> => {
      for (let item = await next(); item; item = await next()) {
        const s = await processItem(item, o.connectors, ctx, o);
        if (!s) continue;
        await buffer.add(s);
        tracker.settled(s.status);
        if (s.status === "FAILED" || s.status === "DEAD") {
          emit({
            type: "item:failed",
            job: plan.job,
            phase: plan.phase,
            key: item.key,
            errorClass: s.errorClass ?? "transient",
            message: s.errorMessage ?? "",
            attempts: s.attempts ?? 0,
            dead: s.status === "DEAD",
          });
        }
      }
    };
    await Promise.all(Array.from({ length: o.workers }, worker));
  };

  try {
    for (;;) {
      await runWorkers();
      await buffer.flush();
      if (ctx.signal.aborted) break;
      const due = await ledger.nextAttemptAt(plan.id);
      if (due === undefined) break;
      const wait = due - Date.now();
      if (wait > 0) {
        emit({ type: "retry:wait", job: plan.job, phase: plan.phase, seconds: Math.round(wait / 100) / 10 });
        await sleep(wait, ctx.signal);
      }
    }
  } finally {
    clearInterval(heartbeat);
    tracker.stop();
    await buffer.flush().catch(() => undefined);
    // claimed but unfinished items go straight back to PENDING for the next run
    await ledger.releaseLeases(plan.id, owner);
  }
}
