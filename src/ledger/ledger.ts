import type {
  BreakerRecord,
  Checkpoint,
  DebtRecord,
  DocumentWrite,
  GateRecord,
  JobLock,
  LockAttempt,
  ClaimedItem,
  EventRecord,
  ItemRow,
  ItemStatus,
  PhaseRef,
  PlanMode,
  PlanRecord,
  PlannedItem,
  RunRecord,
  SearchHit,
  Settlement,
  StatusCounts,
} from "./types.js";

/**
 * The durable store behind every guarantee. Async so that a networked implementation (PostgreSQL)
 * fits without changes above it; the SQLite implementation answers from one local file.
 */
export interface Ledger {
  /** Where this ledger keeps its data, for messages. */
  readonly location: string;
  close(): Promise<void>;

  /** Runs: one execution of a job. */
  startRun(run: Omit<RunRecord, "finishedAt" | "status" | "result">): Promise<void>;
  finishRun(id: string, status: string, result: unknown, finishedAt: number): Promise<void>;
  listRuns(job: string | undefined, limit: number): Promise<RunRecord[]>;

  /** Plans: the recorded set of items between a checkpoint and a target. */
  findPlan(ref: PhaseRef, state: "planning" | "open"): Promise<PlanRecord | undefined>;
  latestPlan(ref: PhaseRef): Promise<PlanRecord | undefined>;
  createPlan(ref: PhaseRef, from: string | null, target: string | null, mode: PlanMode): Promise<PlanRecord>;
  recordItems(planId: number, items: readonly PlannedItem[]): Promise<void>;
  /** Ends recording: a snapshot plan also gets a deletion for every fingerprinted key it did not list. */
  sealPlan(plan: PlanRecord): Promise<void>;
  discardPlan(planId: number): Promise<void>;
  /** Moves the checkpoint to the plan's target iff every item is COMPLETED or SKIPPED; true when it did. */
  /** With a fence, refuses (throws LOCK_LOST) unless it is still the job lock's newest token. */
  closePlan(plan: PlanRecord, now: number, fence?: number): Promise<boolean>;

  /** Job run leases (one runner per job across processes). */
  acquireJobLock(
    job: string,
    holder: { owner: string; pid: number; host: string },
    ttlMs: number,
    now: number,
    isGone: (lock: JobLock) => boolean,
  ): Promise<LockAttempt>;
  renewJobLock(job: string, owner: string, fence: number, ttlMs: number, now: number): Promise<boolean>;
  releaseJobLock(job: string, owner: string): Promise<void>;
  readJobLock(job: string): Promise<JobLock | undefined>;
  /** Deletes a job's plans, items, fingerprints, checkpoints, debts and documents (--nuke). */
  nukeJob(job: string): Promise<void>;

  /** Items: claim with a lease and a fencing token, settle in batches. */
  requeueAbandoned(planId: number, now: number, isOwnerGone: (owner: string) => boolean): Promise<number>;
  claimItems(
    planId: number,
    owner: string,
    leaseUntil: number,
    limit: number,
    now: number,
  ): Promise<ClaimedItem[]>;
  settleItems(settlements: readonly Settlement[], now: number): Promise<void>;
  renewLeases(planId: number, owner: string, leaseUntil: number): Promise<void>;
  /** The owner's PROCESSING items of the plan go back to PENDING. */
  releaseLeases(planId: number, owner: string): Promise<number>;
  countItems(planId: number): Promise<StatusCounts>;
  nextAttemptAt(planId: number): Promise<number | undefined>;
  /** Streams item rows of the latest plans of a job (or all jobs) in the given states. */
  listItems(filter: { job?: string; statuses: readonly ItemStatus[] }): AsyncIterable<ItemRow>;
  requeueItems(filter: { job?: string; statuses: readonly ItemStatus[] }, now: number): Promise<number>;
  countReasons(planId: number, status: ItemStatus): Promise<Record<string, number>>;

  getCheckpoint(ref: PhaseRef): Promise<Checkpoint | undefined>;
  /** Keys with a completed version in a job's phase, streamed (fan-out over a parent phase). */
  fingerprintKeys(job: string, phase: string): AsyncIterable<string>;

  appendEvents(events: readonly EventRecord[]): Promise<void>;
  listEvents(filter: { job?: string; since?: number; limit: number }): Promise<EventRecord[]>;

  getMeta(key: string): Promise<string | undefined>;
  setMeta(key: string, value: string): Promise<void>;

  /** The embedded document store (sqlite-docs sink). */
  countDocuments(filter: { job?: string; collection?: string }): Promise<number>;
  searchDocuments(query: string, filter: { job?: string; limit: number }): Promise<SearchHit[]>;
  getDocument(
    job: string,
    collection: string,
    key: string,
  ): Promise<{ version: string; content: string } | undefined>;
  countVectors(job: string | undefined): Promise<number>;
  semanticSearch(vector: readonly number[], filter: { job?: string; limit: number }): Promise<SearchHit[]>;
  /** Applies document writes outside an item settlement (paying debts). */
  writeDocuments(writes: readonly DocumentWrite[]): Promise<void>;

  /** Resilience state shared by every process on this ledger. */
  readBreaker(provider: string): Promise<BreakerRecord | undefined>;
  listBreakers(): Promise<BreakerRecord[]>;
  /** Read-modify-write of one breaker in a single transaction; returns the record as it now stands. */
  updateBreaker(
    provider: string,
    change: (current: BreakerRecord | undefined) => BreakerRecord | undefined,
  ): Promise<BreakerRecord | undefined>;
  acquireProbe(
    provider: string,
    owner: string,
    max: number,
    expiresAt: number,
    now: number,
  ): Promise<boolean>;
  releaseProbe(provider: string, owner: string): Promise<void>;
  clearProbes(provider: string): Promise<void>;
  readGate(provider: string): Promise<GateRecord | undefined>;
  listGates(): Promise<GateRecord[]>;
  pauseGate(provider: string, until: number, reason: string, now: number): Promise<GateRecord>;
  reserveToken(provider: string, capacity: number, perMs: number, now: number): Promise<number>;

  /** Debts: enrich steps owed for items stored raw. */
  listDebts(filter: { job?: string; limit: number; afterId?: number }): Promise<DebtRecord[]>;
  countDebts(job: string | undefined): Promise<number>;
  settleDebt(id: number, paid: boolean, reason: string | null, now: number): Promise<void>;
}
