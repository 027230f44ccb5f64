import { randomUUID } from "node:crypto";
import type { PhaseConfig, SyncSettings } from "../config/schema.js";
import { buildConnectors, closeConnectors } from "../connectors/build-connectors.js";
import type { ConnectorContext } from "../connectors/types.js";
import { degradationOf } from "../engine/degradation.js";
import { closeInterruptedRuns } from "../engine/interrupted-run.js";
import { runPhase, type RunPhaseOptions } from "../engine/run-phase.js";
import { parseDuration } from "../config/schedule.js";
import { redact } from "../config/secrets.js";
import { errorMessage } from "../errors.js";
import type { EventBus } from "../events.js";
import type { Ledger } from "../ledger/ledger.js";
import { lastSuccessKey } from "../ledger/meta-keys.js";
import type { PhaseResult, SyncResult, SyncStatus } from "../results.js";
import { classifyError } from "../resilience/classify.js";
import { describeHolder, type HeldLock } from "./job-lock.js";
import type { NormalScope } from "./scope.js";
import type { SyncRequest } from "./types.js";

/** What a run needs of its service. */
export interface RunDeps {
  ledger: Ledger;
  events: EventBus;
  sync: SyncSettings;
  progressIntervalMs: number;
  context(phase: string): Omit<ConnectorContext, "signal">;
  payDebts(signal: AbortSignal, runId?: string): Promise<{ paid: number; remaining: number }>;
  /** Throws a ConfigError naming file:line when a source of these phases cannot be read (a missing repository). */
  checkSources(phases: readonly PhaseConfig[], signal: AbortSignal): Promise<void>;
}

/** One run of a job (its lock held): phases in order, debts, then the result, recorded and emitted. */
export async function runJob(
  deps: RunDeps,
  req: SyncRequest,
  phases: readonly PhaseConfig[],
  scope: NormalScope | undefined,
  owner: string,
  lock: HeldLock,
): Promise<SyncResult> {
  const runId = req.runId ?? randomUUID();
  const started = Date.now();
  // connectors (and the debts this run pays) know the run, for state a step keeps per run
  const given = deps;
  deps = {
    ...given,
    context: (phase) => ({ ...given.context(phase), runId }),
    payDebts: (signal) => given.payDebts(signal, runId),
  };
  // holding the job's lock proves every earlier run of the job stopped: those left unfinished died
  for (const r of await closeInterruptedRuns(
    deps.ledger.runs,
    await deps.ledger.runs.unfinished(req.job),
    `the next run of ${req.job} (${runId})`,
  ))
    deps.events.emit("run:interrupted", {
      runId: r.id,
      job: r.job,
      message: `run ${r.id} of ${r.job} (${r.owner}, started ${new Date(r.startedAt).toISOString()}) stopped without finishing: closed as interrupted`,
    });
  await deps.ledger.runs.start({ id: runId, job: req.job, trigger: req.trigger, owner });
  deps.events.emit("run:start", {
    runId,
    job: req.job,
    trigger: req.trigger,
    forced: req.options?.force ?? false,
  });
  if (lock.reclaimed)
    deps.events.emit("lock:reclaimed", {
      job: req.job,
      message: `reclaimed the lock of a stopped run: ${describeHolder(req.job, lock.reclaimed)}`,
    });
  // what connectors report without failing (a glob that matches nothing), for the result's warnings
  const warnings: string[] = [];
  const outcome = await runPhases(deps, req, phases, scope, owner, lock.fence, warnings);
  const summary = summarize(runId, req.job, phases, outcome, started);
  const result = { ...summary, warnings: [...warnings, ...summary.warnings] };
  await deps.ledger.runs.finish(runId, result.status, result);
  // a scoped run syncs only part of the job: it neither moves the main checkpoint nor resets the schedule
  if (result.status === "completed" && !scope)
    await deps.ledger.meta.set(lastSuccessKey(req.job), new Date().toISOString());
  deps.events.emit("run:end", { runId, job: req.job, result });
  return result;
}

interface Outcome {
  results: PhaseResult[];
  status: SyncStatus;
  error?: SyncResult["error"];
  debtsLeft: number;
}

async function runPhases(
  deps: RunDeps,
  req: SyncRequest,
  phases: readonly PhaseConfig[],
  scope: NormalScope | undefined,
  owner: string,
  fence: number,
  warnings: string[],
): Promise<Outcome> {
  const signal = req.signal ?? new AbortController().signal;
  const results: PhaseResult[] = [];
  let debtsLeft = 0;
  try {
    await deps.checkSources(phases, signal);
    if (req.options?.nuke) {
      await deps.ledger.plans.forgetJob(req.job);
      deps.events.emit("nuke:done", { job: req.job });
    }
    await redriveDead(deps, req.job);
    for (const phase of phases) {
      if (signal.aborted) break;
      results.push(await runOnePhase(deps, req, phase, scope, owner, fence, signal, warnings));
    }
    // debts of earlier runs are paid once their providers answer again
    if (!signal.aborted && (await deps.ledger.resilience.countDebts(req.job)) > 0) {
      const paid = await deps.payDebts(signal);
      debtsLeft = paid.remaining;
      if (paid.paid > 0) deps.events.emit("debts:paid", { job: req.job, ...paid });
    }
    const unfinished = results.some(
      (r) => r.pending + r.failed + r.dead > 0 || r.rateLimitedUntil !== undefined,
    );
    for (const r of results)
      if (r.rateLimitedUntil !== undefined)
        warnings.push(
          `${req.job}/${r.name}: stopped at a rate limit (sync.pause_on_rate_limit is false); it resets at ${r.rateLimitedUntil}: run again then`,
        );
    return {
      results,
      status: signal.aborted ? "cancelled" : unfinished ? "partial" : "completed",
      debtsLeft,
    };
  } catch (e) {
    return {
      results,
      status: signal.aborted ? "cancelled" : "failed",
      error: { errorClass: classifyError(e), message: redact(errorMessage(e)) },
      debtsLeft,
    };
  }
}

/** `sync.redrive_dead_after`: DEAD items parked longer than that get a fresh attempt budget. */
async function redriveDead(deps: RunDeps, job: string): Promise<void> {
  const after = deps.sync.redrive_dead_after;
  const olderThanMs = after === undefined ? null : parseDuration(after);
  if (olderThanMs === null) return;
  const count = await deps.ledger.plans.requeue({ job, statuses: ["DEAD"], olderThanMs });
  if (count > 0) deps.events.emit("items:redriven", { job, count, olderThan: after! });
}

async function runOnePhase(
  deps: RunDeps,
  req: SyncRequest,
  phase: PhaseConfig,
  scope: NormalScope | undefined,
  owner: string,
  fence: number,
  signal: AbortSignal,
  warnings: string[],
): Promise<PhaseResult> {
  return withPhase(deps, req.job, phase, owner, signal, warnings, (common) =>
    runPhase({
      ...common,
      ref: { job: req.job, phase: phase.name, scope: scope?.key ?? "" },
      ...(scope ? { scope } : {}),
      fence,
      force: req.options?.force ?? false,
    }),
  );
}

/** What running a phase's items needs, whoever runs them (the job's runner, or a worker that joins). */
export type PhaseWork = Omit<RunPhaseOptions, "ref" | "scope" | "fence" | "force">;

/** Builds the phase's connectors and the options every runner of its items shares, for `fn`; closes them after. */
export async function withPhase<T>(
  deps: RunDeps,
  job: string,
  phase: PhaseConfig,
  owner: string,
  signal: AbortSignal,
  warnings: string[],
  fn: (work: PhaseWork) => Promise<T>,
  workers = deps.sync.max_workers,
): Promise<T> {
  const context = {
    ...deps.context(phase.name),
    warn: (message: string) => warnings.push(`${job}/${phase.name}: ${message}`),
  };
  const connectors = await buildConnectors(phase, context);
  const s = deps.sync;
  try {
    return await fn({
      plans: deps.ledger.plans,
      connectors,
      context,
      owner,
      signal,
      events: deps.events,
      workers,
      maxRetries: s.max_retries,
      retryWaitMs: s.retry_wait_seconds * 1000,
      rateLimitWaitMs: s.rate_limit_wait_seconds * 1000,
      pauseOnRateLimit: s.pause_on_rate_limit,
      leaseMs: s.lease_seconds * 1000,
      progressIntervalMs: deps.progressIntervalMs,
      breakers: deps.ledger.resilience,
    });
  } finally {
    await closeConnectors(connectors);
  }
}

function summarize(
  runId: string,
  job: string,
  phases: readonly PhaseConfig[],
  o: Outcome,
  started: number,
): SyncResult {
  const { results } = o;
  const withEnrich = results.filter((r) => phases.find((p) => p.name === r.name)?.enrich.length);
  return {
    runId,
    job,
    status: o.status,
    degradation: degradationOf({
      finished: o.status === "completed" || o.status === "partial",
      stored: results.reduce((a, r) => a + r.completed, 0),
      enrichable: withEnrich.reduce((a, r) => a + r.completed, 0),
      raw: withEnrich.reduce((a, r) => a + r.degraded, 0),
      troubled: results.some((r) => r.failed + r.dead > 0) || o.debtsLeft > 0,
    }),
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    phasesCompleted: results.filter((r) => r.pending + r.failed + r.dead === 0).length,
    phases: results,
    warnings: results
      .filter((r) => r.dead > 0)
      .map((r) => `${job}/${r.name}: ${r.dead} dead items hold the checkpoint; see \`syncwarden failed\``),
    ...(o.error ? { error: o.error } : {}),
  };
}
