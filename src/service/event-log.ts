import type { Disposable, EventBus, SyncEvent } from "../events.js";
import type { EventStore } from "../ledger/event-store.js";
import type { EventRecord } from "../ledger/types.js";
import { redact, redactJson } from "../config/secrets.js";

const PROGRESS_LOG_MS = 5000;
const FLUSH_MS = 200;

type Described = { level: EventRecord["level"]; type?: string; message: string };

const VERB = {
  completed: "completed in",
  partial: "partial after",
  failed: "failed after",
  cancelled: "cancelled after",
  skipped: "skipped after",
} as const;

/** A one-line, human-readable record of an event, or undefined for events not worth persisting. */
export function describeEvent(e: SyncEvent): Described | undefined {
  const at = "phase" in e ? `${e.job}/${e.phase}` : "";
  switch (e.type) {
    case "run:start":
      return {
        level: "info",
        message: `Sync of ${e.job} started (${e.trigger}${e.forced ? ", forced" : ""})`,
      };
    case "run:end": {
      const r = e.result;
      const level = r.status === "failed" ? "error" : r.status === "completed" ? "info" : "warn";
      return {
        level,
        message: `Sync ${VERB[r.status]} ${r.durationSeconds}s${r.error ? `: ${r.error.message}` : ""}`,
      };
    }
    case "run:interrupted":
      return { level: "warn", message: e.message };
    case "items:redriven":
      return {
        level: "warn",
        type: "items:redrive",
        message: `${e.job}: ${e.count} dead items older than ${e.olderThan} returned to pending with a fresh attempt budget (sync.redrive_dead_after)`,
      };
    case "phase:start":
      return { level: "info", message: `${at}: phase started at checkpoint ${e.checkpoint ?? "(none)"}` };
    case "plan:joined":
      return { level: "info", message: `${at}: worker ${e.owner} joined plan ${e.planId}` };
    case "plan:left":
      return {
        level: "info",
        message: `${at}: worker ${e.owner} left plan ${e.planId}${e.closed ? ", which it closed (the checkpoint moved)" : ""}`,
      };
    case "plan:recorded":
      return {
        level: "info",
        message: e.resumed
          ? `${at}: resuming plan ${e.planId} (${e.total} items, to ${e.target ?? "(no target)"})`
          : `${at}: planned ${e.total} items (${e.mode}, ${e.from ?? "(start)"} → ${e.target ?? "(no target)"})`,
      };
    case "leases:requeued":
      return { level: "warn", message: `${at}: ${e.count} items of a stopped run returned to pending` };
    case "progress":
      return {
        level: "info",
        message: `${at}: ${e.completed + e.skipped + e.dead}/${e.total} (${e.percent}%), ${e.failed} failed, ${e.itemsPerSecond} items/s, ETA ${e.etaSeconds ?? "?"}s`,
      };
    case "item:failed":
      return {
        level: e.dead ? "error" : "warn",
        message: `${at}: ${e.key} ${e.dead ? "dead" : "failed"} (${e.errorClass}, attempt ${e.attempts}): ${e.message}`,
      };
    case "retry:wait":
      return { level: "info", message: `[RETRY] ${at}: waiting ${e.seconds}s for failed items to be due` };
    case "checkpoint:moved":
      return { level: "info", message: `${at}: checkpoint ${e.from ?? "(none)"} → ${e.to ?? "(none)"}` };
    case "phase:end": {
      const r = e.result;
      return {
        level: "info",
        message: `${at}: phase ended: ${r.completed} completed, ${r.skipped} skipped, ${r.failed} failed, ${r.dead} dead, ${r.pending} pending`,
      };
    }
    case "nuke:done":
      return {
        level: "warn",
        type: "nuke",
        message: `${e.job}: deleted its ledger state and documents before syncing from scratch`,
      };
    case "debts:paid":
      return { level: "info", message: `${e.job}: paid ${e.paid} enrichment debts; ${e.remaining} remain` };
    case "lock:wait":
    case "lock:reclaimed":
      return { level: "warn", message: e.message };
    case "breaker:transition":
      return {
        level: e.to === "closed" ? "info" : "warn",
        type: "resilience:circuit",
        message: `[CIRCUIT] ${e.provider}: ${e.from} → ${e.to} (${e.reason})`,
      };
    case "retry:attempt":
      return {
        level: "info",
        type: "resilience:retry",
        message: `[RETRY] ${e.provider}: attempt ${e.attempt}/${e.maxAttempts} failed, retrying in ${(e.delayMs / 1000).toFixed(2)}s: ${e.message}`,
      };
    case "gate:pause":
      return {
        level: "warn",
        type: "resilience:rate",
        message: `[RATE] ${e.provider}: paused ${e.seconds.toFixed(1)}s (${e.reason})`,
      };
    case "replica:end": {
      const head = `replica:${e.replica}:${e.target}: ${e.status}`;
      const level =
        e.status === "ok" ? (e.errors > 0 ? "warn" : "info") : e.status === "locked" ? "info" : "warn";
      const message =
        e.status === "ok"
          ? `${head}: ${e.copied} copied, ${e.deleted} deleted, ${e.conflicts} conflicts, ${e.errors} errors`
          : `${head}${e.message === undefined ? "" : ` (${e.message})`}`;
      return { level, type: "replica:run", message };
    }
    case "health:repair":
      return {
        level: e.ok ? "info" : "warn",
        type: "doctor:repair",
        message: `doctor: ${e.name}: ${e.message}`,
      };
    case "alert:sent":
      return {
        level: "info",
        type: "alert:sent",
        message: `alert ${e.alert} (${e.status}) sent to webhook ${e.webhook}: HTTP ${e.httpStatus}`,
      };
    case "alert:failed":
      return {
        level: "warn",
        type: "alert:failed",
        message: `alert ${e.alert} (${e.status}) not delivered to webhook ${e.webhook}, kept pending: ${e.message}`,
      };
    case "replica:start":
    case "replica:progress":
    case "health:check":
      return undefined;
  }
}

/**
 * The events table as a subscriber of the event map: records are written in batches (a short delay, or
 * when a run ends), each with the run it belongs to: a job's events go to the job's run in progress
 * (one per job at a time: the job lock), a provider's to the one run in progress when there is exactly
 * one (with several at once the breaker is theirs together: no run is named). Progress is written
 * every few seconds per phase.
 */
export class EventLogWriter {
  private readonly subscription: Disposable;
  private pending: EventRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** The run in progress of each job. */
  private readonly runs = new Map<string, string>();
  private readonly progressAt = new Map<string, number>();

  constructor(
    bus: EventBus,
    private readonly store: EventStore,
  ) {
    this.subscription = bus.on((e) => this.take(e));
  }

  private take(e: SyncEvent): void {
    if (e.type === "run:start") this.runs.set(e.job, e.runId);
    if (e.type === "progress") {
      const key = `${e.job}/${e.phase}`;
      const last = this.progressAt.get(key) ?? 0;
      if (e.at - last < PROGRESS_LOG_MS && e.percent !== 100) return;
      this.progressAt.set(key, e.at);
    }
    const d = describeEvent(e);
    if (!d) return;
    const only = this.runs.size === 1 ? [...this.runs][0] : undefined;
    const job = "job" in e ? e.job : only?.[0];
    const runId = "runId" in e ? e.runId : job === undefined ? undefined : this.runs.get(job);
    const { type: _type, at: _at, ...rest } = e;
    // the events table outlives the process: no secret goes in, whatever part of the event holds it
    const data = JSON.parse(redactJson(rest)) as Record<string, unknown>;
    this.pending.push({
      ts: e.at,
      runId: runId ?? null,
      job: job ?? null,
      level: d.level,
      type: d.type ?? e.type,
      message: redact(d.message),
      ...(e.type === "run:start" || e.type === "run:end" ? {} : { data }),
    });
    if (e.type === "run:end") {
      this.runs.delete(e.job);
      for (const k of this.progressAt.keys()) if (k.startsWith(`${e.job}/`)) this.progressAt.delete(k);
    }
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), FLUSH_MS);
    this.timer.unref();
  }

  /** Writes everything taken so far. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    // one failed write must not fail every later one
    this.writing = this.writing
      .catch(() => undefined)
      .then(() => (batch.length > 0 ? this.store.append(batch) : undefined));
    return this.writing;
  }

  async close(): Promise<void> {
    this.subscription.dispose();
    await this.flush();
  }
}
