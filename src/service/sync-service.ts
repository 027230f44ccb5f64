import { randomUUID } from "node:crypto";
import path from "node:path";
import type { LoadedConfig } from "../config/load-config.js";
import { buildConnectors, closeConnectors } from "../connectors/build-connectors.js";
import type { EngineEvent, PhaseResult, Progress } from "../engine/events.js";
import { newOwnerId } from "../engine/owner.js";
import { runPhase } from "../engine/run-phase.js";
import { errorMessage, LockedError, UsageError } from "../errors.js";
import type { Ledger } from "../ledger/ledger.js";
import { SqliteLedger } from "../ledger/sqlite/sqlite-ledger.js";
import type { EventRecord, ItemStatus } from "../ledger/types.js";
import { classifyError } from "../resilience/classify.js";
import type { PolicyEvent } from "../resilience/policy.js";
import { Providers } from "../resilience/providers.js";
import type { ConnectorContext } from "../connectors/types.js";
import { payDebts } from "./pay-debts.js";
import { normaliseScope, type NormalScope } from "./scope.js";
import { acquireJobLock, describeHolder, JobMutex, type HeldLock } from "./job-lock.js";
import type { JobConfig, PhaseConfig } from "../config/schema.js";
import { hostname } from "node:os";
import { describeEvent } from "./event-log.js";
import type { SyncRequest, SyncResult, SyncStatus } from "./types.js";

export type ServiceEvent =
  | EngineEvent
  | { type: "run:start"; runId: string; job: string; trigger: string }
  | { type: "run:end"; result: SyncResult }
  | ({ type: "resilience" } & PolicyEvent)
  | { type: "lock:wait"; job: string; message: string };
export type ServiceListener = (e: ServiceEvent) => void;

const PROGRESS_LOG_MS = 5000;

export const LAST_SUCCESS_KEY = (job: string): string => `last_success:${job}`;

/** The one orchestration behind the CLI, the daemon, the MCP server and the library API. */
export class SyncService {
  private readonly listeners = new Set<ServiceListener>();
  private readonly mutex = new JobMutex();
  /** The newest progress of each job running in this process. */
  private readonly progress = new Map<string, Progress>();
  /** Owns this process's probe leases and item leases outside runs. */
  readonly owner = newOwnerId();
  readonly providers: Providers;
  /** Where resilience events of the run in progress are logged. */
  private activeLog: ((e: EventRecord) => void) | undefined;

  constructor(
    readonly loaded: LoadedConfig,
    readonly ledger: Ledger,
    private readonly progressIntervalMs = 2000,
  ) {
    this.providers = new Providers(
      loaded.config.providers,
      loaded.config.sync,
      loaded.resilienceEnabled,
      ledger,
      this.owner,
      (e) => {
        const message = `[${e.kind}] ${e.provider}: ${e.message}`;
        const record: EventRecord = {
          ts: Date.now(),
          runId: null,
          job: null,
          level: e.level,
          type: `resilience:${e.kind.toLowerCase()}`,
          message,
          data: e,
        };
        if (this.activeLog) this.activeLog(record);
        else void this.ledger.appendEvents([record]).catch(() => undefined);
        for (const l of this.listeners) l({ type: "resilience", ...e });
      },
    );
  }

  /** What connectors of a job's phase are given (without the signal). */
  connectorContext(job: string, phase: string): Omit<ConnectorContext, "signal"> {
    return {
      job,
      phase,
      baseDir: this.loaded.baseDir,
      http: (provider) => this.providers.http(provider),
      parentKeys: (parent) => this.ledger.fingerprintKeys(job, parent),
    };
  }

  /** Runs owed enrich steps (`retry --debts`); providers still down keep their debts. */
  async payDebts(
    job: string,
    signal: AbortSignal = new AbortController().signal,
  ): Promise<{ paid: number; remaining: number; stillDown: string[] }> {
    const config = this.job(job);
    return payDebts(this.ledger, job, config, (phase) => this.connectorContext(job, phase), signal);
  }

  /** Opens the configuration's ledger (state_dir/state.db). */
  static open(loaded: LoadedConfig, options: { progressIntervalMs?: number } = {}): SyncService {
    const ledger = new SqliteLedger(path.join(loaded.stateDir, "state.db"));
    return new SyncService(loaded, ledger, options.progressIntervalMs);
  }

  /** Progress of a job running in this process (undefined when it is not running here). */
  running(job: string): Progress | undefined {
    return this.progress.get(job);
  }

  /** FAILED (and with includeDead, DEAD) items back to PENDING with a fresh attempt budget; returns how many. */
  retryFailed(job: string | undefined, includeDead: boolean): Promise<number> {
    const statuses: ItemStatus[] = includeDead ? ["FAILED", "DEAD"] : ["FAILED"];
    return this.ledger.requeueItems({ ...(job ? { job } : {}), statuses }, Date.now());
  }

  /** Subscribes to every engine and run event; returns the unsubscribe function. */
  on(listener: ServiceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    return this.ledger.close();
  }

  jobNames(): string[] {
    return Object.keys(this.loaded.config.jobs);
  }

  /** A job's configuration; a UsageError naming the config file's jobs when there is no such job. */
  job(name: string): JobConfig {
    const job = this.loaded.config.jobs[name];
    if (!job)
      throw new UsageError(
        `unknown job "${name}"; ${this.loaded.file} defines: ${this.jobNames().join(", ")}`,
      );
    return job;
  }

  async execute(req: SyncRequest): Promise<SyncResult> {
    const job = this.job(req.job);
    const scope = normaliseScope(req.scope);
    const unknown = (req.phases ?? []).filter((p) => !job.phases.some((ph) => ph.name === p));
    if (unknown.length > 0) {
      throw new UsageError(
        `job "${req.job}" has no phase ${unknown.join(", ")}; its phases: ${job.phases.map((p) => p.name).join(", ")}`,
      );
    }
    const phases = job.phases.filter(
      (p) =>
        (req.phases === undefined || req.phases.includes(p.name)) &&
        (!req.options?.incrementalOnly || p.incremental) &&
        (scope?.entities === undefined || scope.entities.includes(p.name)),
    );
    const wait = req.options?.wait ?? 30;
    if (!(await this.mutex.acquire(req.job, wait === false ? 0 : wait * 1000))) {
      throw new LockedError(
        `${req.job} is being synced by this process (pid ${process.pid})${wait === false ? "" : ` (waited ${wait}s)`}; retry when it finishes`,
        { pid: process.pid, host: hostname(), startedAt: Date.now(), expiresAt: Date.now() },
      );
    }
    try {
      const owner = newOwnerId();
      const lock = await acquireJobLock(
        this.ledger,
        req.job,
        owner,
        wait,
        (holder) => {
          const message = `${describeHolder(req.job, holder)}; waiting up to ${wait === false ? 0 : wait}s`;
          void this.ledger.appendEvents([
            { ts: Date.now(), runId: null, job: req.job, level: "warn", type: "lock:wait", message },
          ]);
          for (const l of this.listeners) l({ type: "lock:wait", job: req.job, message });
        },
        req.signal,
      );
      try {
        return await this.run(req, phases, scope, owner, lock);
      } finally {
        await lock.release();
      }
    } finally {
      this.mutex.release(req.job);
    }
  }

  private async run(
    req: SyncRequest,
    phases: PhaseConfig[],
    scope: NormalScope | undefined,
    owner: string,
    lock: HeldLock,
  ): Promise<SyncResult> {
    const started = Date.now();

    const runId = randomUUID();
    this.activeLog = (e) => log.push({ ...e, runId, job: req.job });
    const signal = req.signal ?? new AbortController().signal;
    const settings = this.loaded.config.sync;
    const log: EventRecord[] = [];

    let lastProgressLogged = 0;
    const emit = (e: ServiceEvent): void => {
      if (
        e.type !== "run:start" &&
        e.type !== "run:end" &&
        e.type !== "resilience" &&
        e.type !== "lock:wait"
      ) {
        const d = describeEvent(e);
        // progress reaches listeners at every tick, the event log every few seconds
        const logged =
          e.type !== "progress" || Date.now() - lastProgressLogged >= PROGRESS_LOG_MS || e.percent === 100;
        if (e.type === "progress" && logged) lastProgressLogged = Date.now();
        if (d && logged)
          log.push({
            ts: Date.now(),
            runId,
            job: req.job,
            level: d.level,
            type: e.type,
            message: d.message,
            data: e,
          });
      }
      if (e.type === "progress") this.progress.set(req.job, e);
      for (const l of this.listeners) l(e);
    };
    const note = (level: EventRecord["level"], type: string, message: string): void => {
      log.push({ ts: Date.now(), runId, job: req.job, level, type, message });
    };
    const flushLog = async (): Promise<void> => {
      const batch = log.splice(0);
      if (batch.length > 0) await this.ledger.appendEvents(batch);
    };

    await this.ledger.startRun({ id: runId, job: req.job, trigger: req.trigger, owner, startedAt: started });
    emit({ type: "run:start", runId, job: req.job, trigger: req.trigger });
    note(
      "info",
      "run:start",
      `Sync of ${req.job} started (${req.trigger}${req.options?.force ? ", forced" : ""})`,
    );

    if (lock.reclaimed) {
      note(
        "warn",
        "lock:reclaimed",
        `reclaimed the lock of a stopped run: ${describeHolder(req.job, lock.reclaimed)}`,
      );
    }
    const results: PhaseResult[] = [];
    let status: SyncStatus;
    let error: SyncResult["error"];
    let debtsLeft = 0;
    try {
      if (req.options?.nuke) {
        await this.ledger.nukeJob(req.job);
        note(
          "warn",
          "nuke",
          `${req.job}: deleted its ledger state and documents before syncing from scratch`,
        );
      }
      for (const phase of phases) {
        if (signal.aborted) break;
        const context = this.connectorContext(req.job, phase.name);
        const connectors = await buildConnectors(phase, context);
        try {
          results.push(
            await runPhase({
              ledger: this.ledger,
              ref: { job: req.job, phase: phase.name, scope: scope?.key ?? "" },
              ...(scope ? { scope } : {}),
              fence: lock.fence,
              connectors,
              context,
              owner,
              signal,
              emit,
              force: req.options?.force ?? false,
              workers: settings.max_workers,
              maxRetries: settings.max_retries,
              retryWaitMs: settings.retry_wait_seconds * 1000,
              rateLimitWaitMs: settings.rate_limit_wait_seconds * 1000,
              leaseMs: settings.lease_seconds * 1000,
              progressIntervalMs: this.progressIntervalMs,
            }),
          );
        } finally {
          await closeConnectors(connectors);
          await flushLog();
        }
      }
      // debts of earlier runs are paid once their providers answer again
      if (!signal.aborted && (await this.ledger.countDebts(req.job)) > 0) {
        const paid = await this.payDebts(req.job, signal);
        debtsLeft = paid.remaining;
        if (paid.paid > 0)
          note(
            "info",
            "debts:paid",
            `${req.job}: paid ${paid.paid} enrichment debts; ${paid.remaining} remain`,
          );
      }
      const unfinished = results.some((r) => r.pending + r.failed + r.dead > 0);
      status = signal.aborted ? "cancelled" : unfinished ? "partial" : "completed";
    } catch (e) {
      status = signal.aborted ? "cancelled" : "failed";
      error = { errorClass: classifyError(e), message: errorMessage(e) };
    }

    const durationSeconds = Math.round((Date.now() - started) / 100) / 10;
    const troubled = results.some((r) => r.failed + r.dead > 0);
    const withEnrich = results.filter((r) => phases.find((p) => p.name === r.name)?.enrich.length);
    const degraded = withEnrich.reduce((a, r) => a + r.degraded, 0);
    const enrichable = withEnrich.reduce((a, r) => a + r.completed, 0);
    const result: SyncResult = {
      runId,
      job: req.job,
      status,
      degradation:
        degraded > 0 && degraded >= enrichable
          ? "raw_only"
          : troubled || degraded > 0 || debtsLeft > 0
            ? "partial"
            : "full",
      durationSeconds,
      phasesCompleted: results.filter((r) => r.pending + r.failed + r.dead === 0).length,
      phases: results,
      warnings: results
        .filter((r) => r.dead > 0)
        .map(
          (r) => `${req.job}/${r.name}: ${r.dead} dead items hold the checkpoint; see \`syncwarden failed\``,
        ),
      ...(error ? { error } : {}),
    };
    await this.ledger.finishRun(runId, status, result, Date.now());
    // a scoped run syncs only part of the job: it neither moves the main checkpoint nor resets the schedule
    if (status === "completed" && !scope)
      await this.ledger.setMeta(LAST_SUCCESS_KEY(req.job), new Date().toISOString());
    const verb = {
      completed: "completed in",
      partial: "partial after",
      failed: "failed after",
      cancelled: "cancelled after",
      skipped: "skipped after",
    }[status];
    note(
      status === "failed" ? "error" : status === "completed" ? "info" : "warn",
      "run:end",
      `Sync ${verb} ${durationSeconds}s${error ? `: ${error.message}` : ""}`,
    );
    await flushLog();
    this.activeLog = undefined;
    this.progress.delete(req.job);
    emit({ type: "run:end", result });
    return result;
  }
}
