import type { PlanStore } from "../ledger/plan-store.js";
import type { PhaseRef, PlannedItem, PlanRecord, StatusCounts } from "../ledger/types.js";
import type { ConnectorContext, Source } from "../connectors/types.js";
import type { EventBus } from "../events.js";

const RECORD_BATCH = 2000;

/** A scoped run: only these keys, and/or only what changed since this value (the source's own cursor). */
export interface Scope {
  ids?: readonly string[];
  since?: string;
}

export interface PlanOutcome {
  plan: PlanRecord | undefined;
  resumed: boolean;
  /** The plan's items by status, as counted when it was found or recorded. */
  counts?: StatusCounts;
}

/**
 * Finds the plan to work on: an open plan left by an earlier run, or a new one recorded in full
 * (every item written to the ledger) before any item is processed. None when the source is at the checkpoint.
 */
export async function planPhase(
  plans: PlanStore,
  ref: PhaseRef,
  source: Source,
  ctx: ConnectorContext,
  force: boolean,
  events: EventBus,
  scope?: Scope,
): Promise<PlanOutcome> {
  // a plan whose recording was interrupted is incomplete: throw it away and list again
  const half = await plans.findPlan(ref, "planning");
  if (half) await plans.discardPlan(half.id);

  const open = await plans.findPlan(ref, "open");
  if (open && !force) {
    const counts = await plans.count(open.id);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    events.emit("plan:recorded", {
      ...ref,
      planId: open.id,
      mode: open.mode,
      from: open.fromCheckpoint,
      target: open.target,
      total,
      resumed: true,
    });
    return { plan: open, resumed: true, counts };
  }
  if (open) await plans.discardPlan(open.id); // --force replaces it with a full listing

  const checkpoint = (await plans.checkpoint(ref))?.value ?? null;
  const target = await source.target(ctx);
  if (!scope && !force && checkpoint !== null && target === checkpoint)
    return { plan: undefined, resumed: false };

  const from = scope ? (scope.since ?? null) : force ? null : checkpoint;
  const listing = await source.list(from, target, ctx);
  // a scoped listing is never a snapshot: it must not delete what it does not list
  const plan = await plans.createPlan(ref, from, target, scope ? "delta" : listing.mode, force);
  const wanted = scope?.ids ? new Set(scope.ids) : undefined;
  let batch: PlannedItem[] = [];
  let total = 0;
  for await (const item of listing.items) {
    if (wanted && !wanted.has(source.scopeId?.(item.key) ?? item.key)) continue;
    batch.push(item);
    if (batch.length >= RECORD_BATCH) {
      await plans.recordItems(plan, batch);
      total += batch.length;
      batch = [];
      await new Promise((r) => setImmediate(r)); // keep signals and timers responsive during long listings
    }
    if (ctx.signal.aborted) break;
  }
  if (ctx.signal.aborted) {
    await plans.discardPlan(plan.id);
    return { plan: undefined, resumed: false };
  }
  await plans.recordItems(plan, batch);
  // some sources know the target only once everything is listed (the newest updated_at seen)
  const sealed: PlanRecord = {
    ...plan,
    target: listing.finalTarget ? listing.finalTarget() : target,
    state: "open",
  };
  await plans.sealPlan(sealed);
  const counts = await plans.count(plan.id);
  total = Object.values(counts).reduce((a, b) => a + b, 0);
  events.emit("plan:recorded", {
    ...ref,
    planId: plan.id,
    mode: plan.mode,
    from,
    target: sealed.target,
    total,
    resumed: false,
  });
  return { plan: sealed, resumed: false, counts };
}
