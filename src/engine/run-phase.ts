import type { PhaseConnectors } from "../connectors/build-connectors.js";
import type { ConnectorContext } from "../connectors/types.js";
import type { PlanStore } from "../ledger/plan-store.js";
import type { ResilienceStore } from "../ledger/resilience-store.js";
import type { PhaseRef, PlanRecord } from "../ledger/types.js";
import type { EventBus } from "../events.js";
import type { PhaseResult } from "../results.js";
import { classifyError } from "../resilience/classify.js";
import { retryHintMs } from "../errors.js";
import { planPhase, type Scope } from "./plan-phase.js";
import { processPlan } from "./process-plan.js";

export interface RunPhaseOptions {
  plans: PlanStore;
  ref: PhaseRef;
  connectors: PhaseConnectors;
  context: Omit<ConnectorContext, "signal">;
  owner: string;
  signal: AbortSignal;
  events: EventBus;
  force: boolean;
  workers: number;
  maxRetries: number;
  retryWaitMs: number;
  rateLimitWaitMs: number;
  /** false: stop at a rate limit (items stay pending, the result says when it resets) instead of waiting. */
  pauseOnRateLimit: boolean;
  leaseMs: number;
  progressIntervalMs: number;
  /** The shared breakers: a run waiting out an open one reads it, so a reset wakes the run. */
  breakers: Pick<ResilienceStore, "readCallState">;
  /** Scoped runs list only these ids / only since this cursor, under their own checkpoint (ref.scope). */
  scope?: Scope;
  /** The job lock's fencing token: the checkpoint moves only while it is still the newest. */
  fence?: number;
}

/**
 * Plan → record → process → move the checkpoint only when every item is COMPLETED or SKIPPED.
 * A resumed plan that closes is followed by a fresh plan to the source's current target.
 */
export async function runPhase(o: RunPhaseOptions): Promise<PhaseResult> {
  const { plans, ref, events } = o;
  const ctx: ConnectorContext = { ...o.context, signal: o.signal };
  const start = (await plans.checkpoint(ref))?.value ?? null;
  events.emit("phase:start", { job: ref.job, phase: ref.phase, checkpoint: start });

  const aborted = (): boolean => o.signal.aborted;
  let last: PlanRecord | undefined;
  let limitedUntil: number | undefined;
  for (let round = 0; round < 2 && !aborted(); round++) {
    let planned: Awaited<ReturnType<typeof planPhase>>;
    try {
      planned = await planPhase(
        plans,
        ref,
        o.connectors.source,
        ctx,
        o.force && round === 0,
        events,
        o.scope,
      );
    } catch (e) {
      // a listing stopped by a rate limit, when the run may not wait: nothing is lost, the next run lists again
      if (o.pauseOnRateLimit || classifyError(e) !== "rate_limited") throw e;
      limitedUntil = Date.now() + (retryHintMs(e) ?? o.rateLimitWaitMs);
      break;
    }
    const { plan, resumed, counts } = planned;
    if (!plan) break;
    last = plan;
    limitedUntil = (await processPlan(plan, { ...o, ctx, force: o.force || plan.forced }, counts))
      .rateLimitedUntil;
    if (aborted() || limitedUntil !== undefined) break;
    const before = (await plans.checkpoint(ref))?.value ?? null;
    if (!(await plans.closePlan(plan, o.fence))) break;
    if (plan.target !== before)
      events.emit("checkpoint:moved", { job: ref.job, phase: ref.phase, from: before, to: plan.target });
    if (!resumed || o.scope) break;
  }

  const summary = await summarize(plans, ref, last, o.connectors.enrich.length > 0);
  const result =
    limitedUntil === undefined
      ? summary
      : { ...summary, rateLimitedUntil: new Date(limitedUntil).toISOString() };
  events.emit("phase:end", { job: ref.job, phase: ref.phase, result });
  return result;
}

/**
 * Joins a plan another process opened (a worker): claims and processes its items beside the others, then
 * tries to close it. Whichever worker proves every item terminal moves the checkpoint, exactly once
 * (closePlan decides in the transaction that proves it); true when this one did.
 */
export async function joinPlan(
  plan: PlanRecord,
  o: Omit<RunPhaseOptions, "ref" | "scope" | "fence" | "force">,
): Promise<boolean> {
  const { plans, events } = o;
  const ctx: ConnectorContext = { ...o.context, signal: o.signal };
  events.emit("plan:joined", { job: plan.job, phase: plan.phase, planId: plan.id, owner: o.owner });
  let closed = false;
  try {
    await processPlan(plan, { ...o, ctx, force: plan.forced });
    if (o.signal.aborted) return false;
    const before = (await plans.checkpoint(plan))?.value ?? null;
    closed = await plans.closePlan(plan);
    if (closed && plan.target !== before)
      events.emit("checkpoint:moved", { job: plan.job, phase: plan.phase, from: before, to: plan.target });
    return closed;
  } finally {
    events.emit("plan:left", { job: plan.job, phase: plan.phase, planId: plan.id, owner: o.owner, closed });
  }
}

/** `enriched`: the phase has enrich steps (only then can items have been completed raw). */
async function summarize(
  plans: PlanStore,
  ref: PhaseRef,
  plan: PlanRecord | undefined,
  enriched: boolean,
): Promise<PhaseResult> {
  const checkpoint = (await plans.checkpoint(ref))?.value ?? null;
  if (!plan) {
    return {
      name: ref.phase,
      total: 0,
      completed: 0,
      skipped: 0,
      failed: 0,
      dead: 0,
      pending: 0,
      checkpoint,
      skippedReasons: {},
      degraded: 0,
    };
  }
  const c = await plans.count(plan.id);
  return {
    name: ref.phase,
    total: c.PENDING + c.PROCESSING + c.COMPLETED + c.SKIPPED + c.FAILED + c.DEAD,
    completed: c.COMPLETED,
    skipped: c.SKIPPED,
    failed: c.FAILED,
    dead: c.DEAD,
    pending: c.PENDING + c.PROCESSING,
    checkpoint,
    skippedReasons: await plans.countReasons(plan.id, "SKIPPED"),
    degraded: enriched ? ((await plans.countReasons(plan.id, "COMPLETED")).raw ?? 0) : 0,
  };
}
