import type { PhaseConnectors } from "../connectors/build-connectors.js";
import type { ConnectorContext } from "../connectors/types.js";
import type { PlanStore } from "../ledger/plan-store.js";
import type { ResilienceStore } from "../ledger/resilience-store.js";
import type { ClaimedItem, PlanRecord, StatusCounts } from "../ledger/types.js";
import { ConfigError } from "../errors.js";
import { sleep } from "../resilience/sleep.js";
import type { EventBus } from "../events.js";
import { BreakerWatch } from "./breaker-watch.js";
import { isOwnerGone } from "./owner.js";
import { processItem, type ItemPolicy } from "./process-item.js";
import { ProgressTracker } from "./progress.js";
import { SettleBuffer } from "./settle-buffer.js";

export interface ProcessOptions extends ItemPolicy {
  plans: PlanStore;
  connectors: PhaseConnectors;
  ctx: ConnectorContext;
  owner: string;
  workers: number;
  leaseMs: number;
  events: EventBus;
  progressIntervalMs: number;
  /** false: a rate limit stops the run (its items stay pending) instead of waiting for the reset. */
  pauseOnRateLimit: boolean;
  /** The shared breakers, read while the run waits out one that deferred items (a reset wakes it). */
  breakers: Pick<ResilienceStore, "readCallState">;
}

/**
 * Items a stopped run left PROCESSING: expired leases (the ledger's clock), and at once those of an
 * owner known to be gone (a dead pid on this host: a hint the ledger cannot have).
 */
async function requeueAbandoned(plans: PlanStore, planId: number): Promise<number> {
  let n = await plans.requeueExpired(planId);
  for (const owner of await plans.leaseOwners(planId))
    if (isOwnerGone(owner)) n += await plans.release(planId, owner);
  return n;
}

/** How processing ended short of the plan's end, when it did for a reason the result reports. */
export interface ProcessOutcome {
  /** The run stopped at a rate limit (pauseOnRateLimit false): when it resets, epoch ms. */
  rateLimitedUntil?: number;
}

/**
 * Claims and processes a plan's items with `workers` in flight until none is left to try (or the
 * signal aborts, or, with pauseOnRateLimit false, a rate limit is met).
 */
export async function processPlan(
  plan: PlanRecord,
  o: ProcessOptions,
  counted?: StatusCounts,
): Promise<ProcessOutcome> {
  const { plans, ctx, owner, events } = o;
  const requeued = await requeueAbandoned(plans, plan.id);
  if (requeued > 0) events.emit("leases:requeued", { job: plan.job, phase: plan.phase, count: requeued });

  const tracker = new ProgressTracker(
    plan.job,
    plan.phase,
    // the planner's count still holds unless leases were just requeued
    counted && requeued === 0 ? { ...counted } : await plans.count(plan.id),
    events,
    o.progressIntervalMs,
  );
  // settlements usually ride with the next claim; a full buffer or 100 ms without a claim writes them alone
  const buffer = new SettleBuffer(plans, 1024, 100);
  const heartbeat = setInterval(
    () => {
      plans.heartbeat(plan.id, owner, o.leaseMs).catch(() => undefined);
    },
    Math.max(1000, o.leaseMs / 3),
  );
  heartbeat.unref();
  // large claims keep claim transactions rare; the heartbeat renews every lease held
  const claimBatch = Math.max(256, o.workers * 4);
  const watch = new BreakerWatch(o.breakers);
  const itemPolicy: ItemPolicy = {
    force: o.force,
    maxRetries: o.maxRetries,
    retryWaitMs: o.retryWaitMs,
    rateLimitWaitMs: o.rateLimitWaitMs,
    onBreakerDeferral: (provider) => watch.deferredBy(provider),
    onRateLimitDeferral: (until) => {
      if (!o.pauseOnRateLimit) limitedUntil = Math.max(limitedUntil ?? 0, until);
    },
  };
  // set when a rate limit stops the run (pauseOnRateLimit false): no further item is claimed
  let limitedUntil: number | undefined;
  // set when a provider refused the credentials: no further item is claimed, and the run fails with it
  let refused: string | undefined;
  const stopped = (): boolean => ctx.signal.aborted || refused !== undefined || limitedUntil !== undefined;

  const runWorkers = async (): Promise<void> => {
    const queue: ClaimedItem[] = [];
    let exhausted = false;
    let claiming: Promise<void> | undefined;
    const claim = async (): Promise<void> => {
      // let timers (progress, heartbeat) and signal handlers run even when connectors never do real I/O
      await new Promise((r) => setImmediate(r));
      const got = await plans.claim(plan.id, owner, o.leaseMs, claimBatch, await buffer.take());
      if (got.length === 0) exhausted = true;
      tracker.claimed(got);
      queue.push(...got);
    };
    const next = async (): Promise<ClaimedItem | undefined> => {
      while (queue.length === 0) {
        if (exhausted || stopped()) return undefined;
        claiming ??= claim().finally(() => (claiming = undefined));
        await claiming;
      }
      return stopped() ? undefined : queue.shift();
    };
    // an item already claimed is taken without a turn of the event loop (most are)
    const take = (): ClaimedItem | undefined => (queue.length > 0 && !stopped() ? queue.shift() : undefined);
    const worker = async (): Promise<void> => {
      for (let item = take() ?? (await next()); item; item = take() ?? (await next())) {
        const s = await processItem(item, o.connectors, ctx, itemPolicy);
        if (!s) continue;
        const flushing = buffer.add(s);
        if (flushing) await flushing;
        tracker.settled(s.status);
        if (s.status === "PENDING" && s.errorClass === "config")
          refused ??= s.errorMessage ?? "configuration error";
        if (s.status === "FAILED" || s.status === "DEAD") {
          events.emit("item:failed", {
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
      if (refused !== undefined) throw new ConfigError(refused);
      if (ctx.signal.aborted || limitedUntil !== undefined) break;
      const wait = await plans.nextAttemptIn(plan.id);
      if (wait === undefined) {
        // other workers still hold items of the plan: wait for them, taking over the leases of any that die
        if ((await plans.count(plan.id)).PROCESSING === 0) break;
        await sleep(Math.min(1000, Math.max(50, o.leaseMs / 4)), ctx.signal);
        const requeued = await requeueAbandoned(plans, plan.id);
        if (requeued > 0)
          events.emit("leases:requeued", { job: plan.job, phase: plan.phase, count: requeued });
        continue;
      }
      if (wait > 0) {
        events.emit("retry:wait", { job: plan.job, phase: plan.phase, seconds: Math.round(wait / 100) / 10 });
        // a breaker that deferred items and lets calls through again (reset by hand) ends the wait early
        if (await watch.wait(wait, ctx.signal)) await plans.hastenDeferred(plan.id);
      }
    }
  } finally {
    clearInterval(heartbeat);
    tracker.stop();
    await buffer.flush().catch(() => undefined);
    // claimed but unfinished items go straight back to PENDING for the next run
    await plans.release(plan.id, owner);
  }
  return limitedUntil === undefined ? {} : { rateLimitedUntil: limitedUntil };
}
