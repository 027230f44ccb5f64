import type {
  Checkpoint,
  ClaimedItem,
  ItemRow,
  ItemStatus,
  LeaseCount,
  LeaseHolder,
  PhaseRef,
  PlanMode,
  PlannedItem,
  PlanRecord,
  Settlement,
  StatusCounts,
} from "./types.js";

/** Which items a listing or a redrive is about: a job (or every job) and some statuses. */
export interface ItemFilter {
  job?: string;
  statuses: readonly ItemStatus[];
  /** Only items whose last transition is at least this old (the ledger's clock). */
  olderThanMs?: number;
  /** Only these items (by id): a redrive of items a person picked. */
  ids?: readonly number[];
  /** listItems: only items after this id (a page of a listing; ignored by requeue). */
  afterId?: number;
}

/**
 * Plans, their items and the checkpoints they move. Time that decides (a lease's expiry, an item's
 * next attempt) is the ledger's own clock, read inside the statement that decides.
 */
export interface PlanStore {
  findPlan(ref: PhaseRef, state: "planning" | "open"): Promise<PlanRecord | undefined>;
  latestPlan(ref: PhaseRef): Promise<PlanRecord | undefined>;
  createPlan(
    ref: PhaseRef,
    from: string | null,
    target: string | null,
    mode: PlanMode,
    forced?: boolean,
  ): Promise<PlanRecord>;
  /** Records items of a plan being planned (PENDING); a key listed twice is recorded once. */
  recordItems(plan: PlanRecord, items: readonly PlannedItem[]): Promise<void>;
  /** Ends recording: a snapshot plan also gets a deletion for every fingerprinted key it did not list. */
  sealPlan(plan: PlanRecord): Promise<void>;
  discardPlan(planId: number): Promise<void>;
  /**
   * The checkpoint rule: moves the checkpoint to the plan's target iff every item is COMPLETED or
   * SKIPPED, in the transaction that proves it; true when it did. With a fence, refuses (throws
   * LOCK_LOST) unless it is still the job lock's newest token.
   */
  closePlan(plan: PlanRecord, fence?: number): Promise<boolean>;

  /**
   * Claims up to `limit` due items (FAILED past their backoff first, then PENDING): PROCESSING, leased for
   * `leaseMs`, fence + 1. `settle`: settlements of items done, written first in the same transaction (one
   * commit for the batch done and the batch claimed).
   */
  claim(
    planId: number,
    owner: string,
    leaseMs: number,
    limit: number,
    settle?: readonly Settlement[],
  ): Promise<ClaimedItem[]>;
  /** Extends every lease the owner holds on the plan by `leaseMs` from now. */
  heartbeat(planId: number, owner: string, leaseMs: number): Promise<void>;
  /** Completes, skips, fails, parks (DEAD) or defers items in one transaction; a stale fence is ignored. */
  settle(settlements: readonly Settlement[]): Promise<void>;
  /** The owner's PROCESSING items of the plan go back to PENDING (stopping, or an owner known to be gone). */
  release(planId: number, owner: string): Promise<number>;
  /** PROCESSING items whose lease expired go back to PENDING (of one plan, or of every plan). */
  requeueExpired(planId?: number): Promise<number>;
  /** Who holds leases on the plan (to recognise a holder that died on this host). */
  leaseOwners(planId: number): Promise<string[]>;
  /** The plan's lease holders with their item counts and newest expiry, most items first (`status`). */
  leaseHolders(planId: number): Promise<LeaseHolder[]>;
  /** PROCESSING items with an expired lease, per job and phase. */
  expiredLeases(): Promise<LeaseCount[]>;
  /** FAILED (and DEAD) items matching the filter back to PENDING with a fresh attempt budget (a redrive). */
  requeue(filter: ItemFilter): Promise<number>;

  count(planId: number): Promise<StatusCounts>;
  countReasons(planId: number, status: ItemStatus): Promise<Record<string, number>>;
  /** Items of every job in one status, per job. */
  countByJob(status: ItemStatus): Promise<Record<string, number>>;
  /** Milliseconds until the plan's next FAILED or deferred item is due (0: now); undefined when none waits. */
  nextAttemptIn(planId: number): Promise<number | undefined>;
  /** The plan's items deferred by an open breaker (PENDING, class `unavailable`) are due now; how many (a reset breaker). */
  hastenDeferred(planId: number): Promise<number>;
  /** Streams item rows in the given states, in id order (memory stays flat). */
  listItems(filter: ItemFilter): AsyncIterable<ItemRow>;

  checkpoint(ref: PhaseRef): Promise<Checkpoint | undefined>;
  /** Keys with a completed version in a job's phase, streamed (fan-out over a parent phase). */
  fingerprintKeys(job: string, phase: string): AsyncIterable<string>;
  /** Deletes a job's plans, items, fingerprints, checkpoints and debts, and what the ledger's own document store holds for it (--nuke). */
  forgetJob(job: string): Promise<void>;
}
