import type Database from "better-sqlite3";
import type { Ledger } from "../ledger.js";
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
} from "../types.js";
import { DocumentStore } from "./document-store.js";
import { ItemStore } from "./item-store.js";
import { openDatabase } from "./open-database.js";
import { PlanStore } from "./plan-store.js";
import { LockStore } from "./lock-store.js";
import { ResilienceStore } from "./resilience-store.js";
import { RunStore } from "./run-store.js";

/** The default ledger: one SQLite file (WAL) holding the ledger and the embedded document store. */
export class SqliteLedger implements Ledger {
  readonly db: Database.Database;
  private readonly docs: DocumentStore;
  private readonly items: ItemStore;
  private readonly plans: PlanStore;
  private readonly runs: RunStore;
  private readonly resilience: ResilienceStore;
  private readonly locks: LockStore;

  constructor(readonly location: string) {
    this.db = openDatabase(location);
    this.docs = new DocumentStore(this.db);
    this.items = new ItemStore(this.db, this.docs);
    this.plans = new PlanStore(this.db);
    this.runs = new RunStore(this.db);
    this.resilience = new ResilienceStore(this.db);
    this.locks = new LockStore(this.db);
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  startRun(run: Omit<RunRecord, "finishedAt" | "status" | "result">): Promise<void> {
    return Promise.resolve(this.runs.start(run));
  }
  finishRun(id: string, status: string, result: unknown, finishedAt: number): Promise<void> {
    return Promise.resolve(this.runs.finish(id, status, result, finishedAt));
  }
  listRuns(job: string | undefined, limit: number): Promise<RunRecord[]> {
    return Promise.resolve(this.runs.list(job, limit));
  }

  findPlan(ref: PhaseRef, state: "planning" | "open"): Promise<PlanRecord | undefined> {
    return Promise.resolve(this.plans.find(ref, state));
  }
  latestPlan(ref: PhaseRef): Promise<PlanRecord | undefined> {
    return Promise.resolve(this.plans.latest(ref));
  }
  createPlan(ref: PhaseRef, from: string | null, target: string | null, mode: PlanMode): Promise<PlanRecord> {
    return Promise.resolve(this.plans.create(ref, from, target, mode, Date.now()));
  }
  recordItems(planId: number, items: readonly PlannedItem[]): Promise<void> {
    const plan = this.db
      .prepare<[number], { job: string; phase: string }>("SELECT job, phase FROM plans WHERE id = ?")
      .get(planId);
    if (!plan) return Promise.reject(new Error(`plan ${planId} does not exist`));
    return Promise.resolve(this.items.record(planId, plan.job, plan.phase, items, Date.now()));
  }
  sealPlan(plan: PlanRecord): Promise<void> {
    return Promise.resolve(this.plans.seal(plan, Date.now()));
  }
  discardPlan(planId: number): Promise<void> {
    return Promise.resolve(this.plans.discard(planId));
  }
  closePlan(plan: PlanRecord, now: number, fence?: number): Promise<boolean> {
    const check = fence === undefined ? undefined : () => this.locks.fenceValid(plan.job, fence);
    return Promise.resolve(this.plans.close(plan, now, check));
  }

  acquireJobLock(
    job: string,
    holder: { owner: string; pid: number; host: string },
    ttlMs: number,
    now: number,
    isGone: (lock: JobLock) => boolean,
  ): Promise<LockAttempt> {
    return Promise.resolve(this.locks.acquire(job, holder, ttlMs, now, isGone));
  }
  renewJobLock(job: string, owner: string, fence: number, ttlMs: number, now: number): Promise<boolean> {
    return Promise.resolve(this.locks.renew(job, owner, fence, ttlMs, now));
  }
  releaseJobLock(job: string, owner: string): Promise<void> {
    this.locks.release(job, owner);
    return Promise.resolve();
  }
  nukeJob(job: string): Promise<void> {
    this.db
      .transaction(() => {
        for (const table of ["items", "plans", "fingerprints", "checkpoints", "debts"]) {
          this.db.prepare(`DELETE FROM ${table} WHERE job = ?`).run(job);
        }
        this.db
          .prepare("DELETE FROM chunks WHERE document_id IN (SELECT id FROM documents WHERE job = ?)")
          .run(job);
        this.db
          .prepare("DELETE FROM vectors WHERE document_id IN (SELECT id FROM documents WHERE job = ?)")
          .run(job);
        this.db.prepare("DELETE FROM documents WHERE job = ?").run(job);
      })
      .immediate();
    return Promise.resolve();
  }
  readJobLock(job: string): Promise<JobLock | undefined> {
    return Promise.resolve(this.locks.read(job));
  }

  requeueAbandoned(planId: number, now: number, isOwnerGone: (owner: string) => boolean): Promise<number> {
    return Promise.resolve(this.items.requeueAbandoned(planId, now, isOwnerGone));
  }
  claimItems(
    planId: number,
    owner: string,
    leaseUntil: number,
    limit: number,
    now: number,
  ): Promise<ClaimedItem[]> {
    return Promise.resolve(this.items.claim(planId, owner, leaseUntil, limit, now));
  }
  settleItems(settlements: readonly Settlement[], now: number): Promise<void> {
    return Promise.resolve(this.items.settle(settlements, now));
  }
  renewLeases(planId: number, owner: string, leaseUntil: number): Promise<void> {
    return Promise.resolve(this.items.renew(planId, owner, leaseUntil));
  }
  releaseLeases(planId: number, owner: string): Promise<number> {
    return Promise.resolve(this.items.release(planId, owner, Date.now()));
  }
  countItems(planId: number): Promise<StatusCounts> {
    return Promise.resolve(this.items.count(planId));
  }
  nextAttemptAt(planId: number): Promise<number | undefined> {
    return Promise.resolve(this.items.nextAttemptAt(planId));
  }
  // eslint-disable-next-line @typescript-eslint/require-await -- async by contract, for networked ledgers
  async *listItems(filter: { job?: string; statuses: readonly ItemStatus[] }): AsyncIterable<ItemRow> {
    // pages by id, so that no SQLite cursor stays open across an await and memory stays flat
    const page = 500;
    let afterId = 0;
    for (;;) {
      const rows = this.items.list(filter, afterId, page);
      yield* rows;
      if (rows.length < page) return;
      afterId = rows[rows.length - 1]!.id;
    }
  }
  requeueItems(filter: { job?: string; statuses: readonly ItemStatus[] }, now: number): Promise<number> {
    return Promise.resolve(this.items.requeue(filter, now));
  }
  countReasons(planId: number, status: ItemStatus): Promise<Record<string, number>> {
    return Promise.resolve(this.items.countReasons(planId, status));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async by contract, for networked ledgers
  async *fingerprintKeys(job: string, phase: string): AsyncIterable<string> {
    const page = this.db.prepare<[string, string, string], { key: string }>(
      "SELECT key FROM fingerprints WHERE job = ? AND phase = ? AND key > ? ORDER BY key LIMIT 500",
    );
    for (let after = ""; ;) {
      const rows = page.all(job, phase, after);
      for (const r of rows) yield r.key;
      if (rows.length < 500) return;
      after = rows[rows.length - 1]!.key;
    }
  }

  getCheckpoint(ref: PhaseRef): Promise<Checkpoint | undefined> {
    return Promise.resolve(this.plans.checkpoint(ref));
  }

  appendEvents(events: readonly EventRecord[]): Promise<void> {
    return Promise.resolve(this.runs.appendEvents(events));
  }
  listEvents(filter: { job?: string; since?: number; limit: number }): Promise<EventRecord[]> {
    return Promise.resolve(this.runs.listEvents(filter));
  }

  getMeta(key: string): Promise<string | undefined> {
    return Promise.resolve(this.runs.getMeta(key));
  }
  setMeta(key: string, value: string): Promise<void> {
    return Promise.resolve(this.runs.setMeta(key, value));
  }

  countDocuments(filter: { job?: string; collection?: string }): Promise<number> {
    return Promise.resolve(this.docs.count(filter));
  }
  searchDocuments(query: string, filter: { job?: string; limit: number }): Promise<SearchHit[]> {
    return Promise.resolve(this.docs.search(query, filter));
  }
  getDocument(
    job: string,
    collection: string,
    key: string,
  ): Promise<{ version: string; content: string } | undefined> {
    return Promise.resolve(this.docs.get(job, collection, key));
  }
  countVectors(job: string | undefined): Promise<number> {
    return Promise.resolve(this.docs.countVectors(job));
  }
  semanticSearch(vector: readonly number[], filter: { job?: string; limit: number }): Promise<SearchHit[]> {
    return Promise.resolve(this.docs.semanticSearch(vector, filter));
  }
  writeDocuments(writes: readonly DocumentWrite[]): Promise<void> {
    const now = Date.now();
    this.db
      .transaction(() => {
        for (const w of writes) this.docs.apply(w, now);
      })
      .immediate();
    return Promise.resolve();
  }

  readBreaker(provider: string): Promise<BreakerRecord | undefined> {
    return Promise.resolve(this.resilience.readBreaker(provider));
  }
  listBreakers(): Promise<BreakerRecord[]> {
    return Promise.resolve(this.resilience.listBreakers());
  }
  updateBreaker(
    provider: string,
    change: (current: BreakerRecord | undefined) => BreakerRecord | undefined,
  ): Promise<BreakerRecord | undefined> {
    return Promise.resolve(this.resilience.updateBreaker(provider, change));
  }
  acquireProbe(
    provider: string,
    owner: string,
    max: number,
    expiresAt: number,
    now: number,
  ): Promise<boolean> {
    return Promise.resolve(this.resilience.acquireProbe(provider, owner, max, expiresAt, now));
  }
  releaseProbe(provider: string, owner: string): Promise<void> {
    this.resilience.releaseProbe(provider, owner);
    return Promise.resolve();
  }
  clearProbes(provider: string): Promise<void> {
    this.resilience.clearProbes(provider);
    return Promise.resolve();
  }
  readGate(provider: string): Promise<GateRecord | undefined> {
    return Promise.resolve(this.resilience.readGate(provider));
  }
  listGates(): Promise<GateRecord[]> {
    return Promise.resolve(this.resilience.listGates());
  }
  pauseGate(provider: string, until: number, reason: string, now: number): Promise<GateRecord> {
    return Promise.resolve(this.resilience.pauseGate(provider, until, reason, now));
  }
  reserveToken(provider: string, capacity: number, perMs: number, now: number): Promise<number> {
    return Promise.resolve(this.resilience.reserveToken(provider, capacity, perMs, now));
  }

  listDebts(filter: { job?: string; limit: number; afterId?: number }): Promise<DebtRecord[]> {
    return Promise.resolve(this.resilience.listDebts(filter));
  }
  countDebts(job: string | undefined): Promise<number> {
    return Promise.resolve(this.resilience.countDebts(job));
  }
  settleDebt(id: number, paid: boolean, reason: string | null, now: number): Promise<void> {
    this.resilience.settleDebt(id, paid, reason, now);
    return Promise.resolve();
  }
}
