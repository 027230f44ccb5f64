import { machineName } from "../config/host.js";
import type { LoadedConfig } from "../config/load-config.js";
import type { JobConfig, PhaseConfig } from "../config/schema.js";
import type { ConnectorContext } from "../connectors/types.js";
import { newOwnerId } from "../engine/owner.js";
import { LockedError, UsageError } from "../errors.js";
import { EventBus, type Disposable, type Listener } from "../events.js";
import type { Ledger } from "../ledger/ledger.js";
import { lastSuccessKey } from "../ledger/meta-keys.js";
import { openLedger } from "../ledger/open-ledger.js";
import {
  ITEM_STATUSES,
  type DebtRecord,
  type EventRecord,
  type ItemRow,
  type ItemStatus,
  type RunRecord,
} from "../ledger/types.js";
import type { Progress, SyncResult } from "../results.js";
import { Providers } from "../resilience/providers.js";
import { EventLogWriter } from "./event-log.js";
import { acquireDaemonLock } from "./daemon-lock.js";
import { acquireJobLock, describeHolder, JobMutex, type HeldLock } from "./job-lock.js";
import { payDebts, type DebtOutcome } from "./pay-debts.js";
import { joinJob, type JoinOutcome } from "./join-job.js";
import { runJob, type RunDeps } from "./run-job.js";
import { checkSince, normaliseScope } from "./scope.js";
import { searchDocuments, type SearchOptions, type SearchOutcome } from "./search.js";
import { checkSources } from "./check-sources.js";
import { githubLimits, githubProviders, type GithubLimit } from "./github-limits.js";
import { requireJob, requirePhases } from "./known-jobs.js";
import { MemoryService } from "./memory-service.js";
import { jobStatus, providerHealth, type JobStatus, type ProviderHealth } from "./status.js";
import type { SyncRequest } from "./types.js";

export type { ItemRow, ItemStatus } from "../ledger/types.js";

export interface ServiceOptions {
  /** How often a running phase emits `progress` (ms). */
  progressIntervalMs?: number;
  /** The event map to emit on (a ReplicaService beside this service shares it; see openServices). */
  events?: EventBus;
  /** The events table's writer, when the opener shares one between services. */
  log?: EventLogWriter;
}

/** The one orchestration behind the CLI, the daemon, the MCP server and the library API. */
export class SyncService {
  readonly events: EventBus;
  private readonly log: EventLogWriter;
  private readonly mutex = new JobMutex();
  /** The newest progress of each job running in this process. */
  private readonly progress = new Map<string, Progress>();
  /** Owns this process's probe leases. */
  readonly owner = newOwnerId();
  readonly providers: Providers;
  /** Agent memory: episodes, entities and facts of the jobs with a memory sink. */
  readonly memory: MemoryService;
  private readonly progressIntervalMs: number;

  /** The service over its stores; `SyncService.open(loaded)` opens the configuration's ledger. */
  constructor(
    readonly loaded: LoadedConfig,
    private readonly ledger: Ledger,
    options: ServiceOptions = {},
  ) {
    this.events = options.events ?? new EventBus();
    this.progressIntervalMs = options.progressIntervalMs ?? 2000;
    this.log = options.log ?? new EventLogWriter(this.events, ledger.events);
    this.events.on((e) => {
      if (e.type === "progress") this.progress.set(e.job, e);
      else if (e.type === "run:end") this.progress.delete(e.job);
    });
    this.providers = new Providers(
      loaded.config.providers,
      loaded.config.sync,
      loaded.resilience ?? { enabled: loaded.resilienceEnabled, retry: true, breaker: true },
      ledger.resilience,
      this.owner,
      this.events,
    );
    this.memory = new MemoryService(loaded, ledger, this);
  }

  static open(loaded: LoadedConfig, options: ServiceOptions = {}): SyncService {
    return new SyncService(loaded, openLedger(loaded), options);
  }

  /** Subscribes to every event (runs, phases, progress, locks, breakers, gates, retries, debts). */
  on(listener: Listener): Disposable {
    return this.events.on(listener);
  }

  async close(): Promise<void> {
    await this.log.close();
    await this.ledger.close();
  }

  jobNames(): string[] {
    return Object.keys(this.loaded.config.jobs);
  }

  /** A job's configuration; a UsageError naming the config file's jobs when there is no such job. */
  job(name: string): JobConfig {
    return requireJob(this.loaded, name);
  }

  /** What connectors of a job's phase are given (without the signal). */
  connectorContext(job: string, phase: string): Omit<ConnectorContext, "signal"> {
    return {
      job,
      phase,
      baseDir: this.loaded.baseDir,
      http: (provider) => this.providers.http(provider),
      ownHttp: (name, spec) => this.providers.own(name, spec),
      cache: this.ledger.meta,
      parentKeys: (parent) => this.ledger.plans.fingerprintKeys(job, parent),
      ...(this.ledger.documents ? { documents: this.ledger.documents } : {}),
    };
  }

  /** Runs a job: waits for its lock (in this process, then across processes), then its phases. */
  async execute(req: SyncRequest): Promise<SyncResult> {
    const phases = this.selectPhases(req);
    const given = req.scope?.since?.trim();
    // checked before the lock or any write: a since that is not a commit (git) or a time (http-json) is refused
    const since = given
      ? await checkSince(given, req.job, phases, this.loaded.baseDir, {
          label: "since",
          ...(req.signal ? { signal: req.signal } : {}),
        })
      : undefined;
    const scope = normaliseScope(since === undefined ? req.scope : { ...req.scope, since });
    const wait = req.options?.wait ?? 30;
    if (!(await this.mutex.acquire(req.job, wait === false ? 0 : wait * 1000))) {
      throw new LockedError(
        `${req.job} is being synced by this process (pid ${process.pid})${wait === false ? "" : ` (waited ${wait}s)`}; retry when it finishes`,
        { pid: process.pid, host: machineName(), startedAt: Date.now(), expiresAt: Date.now() },
      );
    }
    try {
      const owner = newOwnerId();
      const lock = await acquireJobLock(
        this.ledger.locks,
        req.job,
        owner,
        wait,
        (holder) =>
          this.events.emit("lock:wait", {
            job: req.job,
            message: `${describeHolder(req.job, holder)}; waiting up to ${wait === false ? 0 : wait}s`,
          }),
        req.signal,
      );
      try {
        return await runJob(this.runDeps(req.job), req, phases, scope, owner, lock);
      } finally {
        await lock.release();
        await this.log.flush();
      }
    } finally {
      this.mutex.release(req.job);
    }
  }

  private runDeps(job: string): RunDeps {
    return {
      ledger: this.ledger,
      events: this.events,
      sync: this.loaded.config.sync,
      progressIntervalMs: this.progressIntervalMs,
      context: (phase: string) => this.connectorContext(job, phase),
      payDebts: (signal: AbortSignal, runId?: string) => this.payDebts(job, signal, runId),
      checkSources: (selected: readonly PhaseConfig[], signal: AbortSignal) =>
        checkSources(this.loaded, job, selected, signal),
    };
  }

  /**
   * Works on the job's open plans beside their runner (a worker): `workers` items in flight from this
   * process until none is left to claim. Needs no job lock: leases and fences keep the workers apart.
   */
  async join(job: string, o: { workers: number; signal: AbortSignal; owner?: string }): Promise<JoinOutcome> {
    const config = this.job(job);
    const warnings: string[] = [];
    try {
      return await joinJob(
        this.runDeps(job),
        job,
        config.phases,
        o.owner ?? this.owner,
        o.workers,
        o.signal,
        warnings,
      );
    } finally {
      await this.log.flush();
    }
  }

  /** The phases a request runs, in configuration order; a UsageError for an unknown job or phase. */
  private selectPhases(req: SyncRequest): PhaseConfig[] {
    const job = requirePhases(this.loaded, req.job, req.phases ?? []);
    const entities = req.scope?.entities?.length ? req.scope.entities : undefined;
    return job.phases.filter(
      (p) =>
        (req.phases === undefined || req.phases.includes(p.name)) &&
        (!req.options?.incrementalOnly || p.incremental) &&
        (entities === undefined || entities.includes(p.name)),
    );
  }

  /** Runs owed enrich steps (`retry --debts`); providers still down keep their debts. */
  payDebts(
    job: string,
    signal: AbortSignal = new AbortController().signal,
    runId?: string,
  ): Promise<DebtOutcome> {
    return payDebts(
      this.ledger.resilience,
      job,
      this.job(job),
      (phase) => ({ ...this.connectorContext(job, phase), ...(runId === undefined ? {} : { runId }) }),
      signal,
    );
  }

  /** Enrich steps owed (of a job, or all), oldest first. */
  debts(job: string | undefined, limit: number): Promise<DebtRecord[]> {
    if (job !== undefined) this.job(job);
    return this.ledger.resilience.listDebts({ ...(job !== undefined ? { job } : {}), limit });
  }

  /** FAILED (and with includeDead, DEAD) items back to PENDING with a fresh attempt budget; returns how many. */
  retryFailed(job: string | undefined, includeDead: boolean): Promise<number> {
    if (job !== undefined) this.job(job);
    const statuses: ItemStatus[] = includeDead ? ["FAILED", "DEAD"] : ["FAILED"];
    return this.ledger.plans.requeue({ ...(job ? { job } : {}), statuses });
  }

  /** The FAILED and DEAD items among `ids` back to PENDING with a fresh attempt budget; returns how many. */
  retryItems(ids: readonly number[]): Promise<number> {
    return this.ledger.plans.requeue({ statuses: ["FAILED", "DEAD"], ids });
  }

  /** The state folder's one daemon lease (a second daemon gets a LockedError naming the first). */
  lockDaemon(): Promise<HeldLock> {
    return acquireDaemonLock(this.ledger.locks, this.loaded.stateDir);
  }

  /** Progress of a job running in this process (undefined when it is not running here). */
  running(job: string): Progress | undefined {
    return this.progress.get(job);
  }

  /** Per job (all, or the one named): checkpoints, plans, item counts, documents, debts, last run and success. */
  async status(job?: string): Promise<JobStatus[]> {
    if (job !== undefined) this.job(job);
    const names = job === undefined ? this.jobNames() : [job];
    const out: JobStatus[] = [];
    for (const name of names) out.push(await jobStatus(this.ledger, this.loaded, name));
    return out;
  }

  /** Every provider: the configured ones, then one per github source token. */
  providerNames(): string[] {
    return [...this.providers.names(), ...githubProviders(this.loaded).keys()];
  }

  /** Breaker and rate-gate state of every provider. */
  providerHealth(): Promise<ProviderHealth[]> {
    return providerHealth(this.ledger, this.providerNames());
  }

  /** Each github source token's primary limit (GET /rate_limit, free) and its shared gate. */
  githubLimits(signal: AbortSignal = new AbortController().signal): Promise<GithubLimit[]> {
    return githubLimits(
      this.loaded,
      this.ledger.resilience,
      (job, phase) => this.connectorContext(job, phase),
      signal,
    );
  }

  /** What a schedule is judged by: the job's last success and its last run's start (ms), or null. */
  async scheduleFacts(job: string): Promise<{ lastSuccess: number | null; lastStart: number | null }> {
    const stamp = await this.ledger.meta.get(lastSuccessKey(job));
    const parsed = stamp === undefined ? Number.NaN : Date.parse(stamp);
    const [last] = await this.ledger.runs.list(job, 1);
    return { lastSuccess: Number.isFinite(parsed) ? parsed : null, lastStart: last?.startedAt ?? null };
  }

  /** True when a phase of the job has a plan left in planning (its planner stopped before it opened the plan, or is planning now). */
  async planningLeft(job: string): Promise<boolean> {
    for (const p of this.job(job).phases)
      if (await this.ledger.plans.findPlan({ job, phase: p.name, scope: "" }, "planning")) return true;
    return false;
  }

  /** Past runs, newest first. */
  history(job: string | undefined, limit: number): Promise<RunRecord[]> {
    return this.ledger.runs.list(job, limit);
  }

  /** The event log, oldest first (the newest `limit`). */
  async eventLog(filter: { job?: string; since?: number; limit: number }): Promise<EventRecord[]> {
    await this.log.flush();
    return this.ledger.events.list(filter);
  }

  /** FAILED and DEAD items in id order (after the item `afterId`, a listing's cursor), streamed. */
  failed(job: string | undefined, afterId?: number): AsyncIterable<ItemRow> {
    if (job !== undefined) this.job(job);
    return this.ledger.plans.listItems({
      ...(job ? { job } : {}),
      statuses: ["FAILED", "DEAD"],
      ...(afterId === undefined ? {} : { afterId }),
    });
  }

  /**
   * A job's items in the given statuses (every status when none is given), in id order, at most `limit`:
   * what is pending, processing, completed, skipped, failed or dead (`syncwarden items`).
   */
  async items(job: string, o: { statuses?: readonly ItemStatus[]; limit: number }): Promise<ItemRow[]> {
    this.job(job);
    const statuses = o.statuses?.length ? o.statuses : ITEM_STATUSES;
    const rows: ItemRow[] = [];
    if (o.limit <= 0) return rows;
    for await (const r of this.ledger.plans.listItems({ job, statuses })) {
      rows.push(r);
      if (rows.length >= o.limit) break;
    }
    return rows;
  }

  /** Keyword (or with `semantic`, embedding) search over the documents the sinks store. */
  search(query: string, o: SearchOptions): Promise<SearchOutcome> {
    if (o.job !== undefined) this.job(o.job);
    return searchDocuments(
      this.loaded,
      query,
      o,
      (job, phase) => this.connectorContext(job, phase),
      this.ledger.documents,
    );
  }

  /** Closes (reset) or isolates a provider's breaker, shared by every process on this ledger. */
  async breaker(name: string, action: "reset" | "isolate"): Promise<void> {
    const own = githubProviders(this.loaded).get(name);
    if (!own && !this.providers.names().includes(name))
      throw new UsageError(
        `unknown provider "${name}"; providers: ${this.providerNames().join(", ") || "(none configured)"}`,
      );
    const b = (own ? this.providers.own(name, own) : this.providers.http(name)).policy.breaker;
    await (action === "reset" ? b.reset() : b.isolate());
  }
}
