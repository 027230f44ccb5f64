import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Disposable, EventBus, SyncEvent } from "../events.js";
import type { Progress } from "../results.js";

type Settled = NonNullable<Progress["settled"]>;
const OUTCOMES = ["completed", "skipped", "failed", "dead"] as const;
const CHECK_STATUS = { ok: 0, warning: 1, critical: 2 } as const;

/** `replica:<replica>:<target>` breakers and `replica:end` events: the replica's name is the bounded label. */
const replicaOf = (e: { replica: string }): string => e.replica;

/**
 * The counters of what this process did, fed by the one event map (a disposable subscription; no
 * bookkeeping of its own beyond the last progress seen per phase, to count what settled since).
 */
export class EventCounters {
  private readonly subscription: Disposable;
  private readonly runs: Counter<"job" | "status">;
  private readonly runSeconds: Histogram<"job">;
  private readonly items: Counter<"job" | "phase" | "status">;
  private readonly retries: Counter<"provider" | "class">;
  private readonly transitions: Counter<"provider" | "from" | "to">;
  private readonly gateWaits: Counter<"provider">;
  private readonly gateWaitSeconds: Counter<"provider">;
  private readonly replicaSeconds: Histogram<"replica">;
  private readonly replicaConflicts: Counter<"replica">;
  private readonly replicaRuns: Counter<"replica" | "status">;
  private readonly doctor: Gauge<"check">;
  private readonly failures: Counter<"job" | "phase" | "class">;
  /** The settled counts last seen per job/phase (a new phase starts from zero). */
  private readonly seen = new Map<string, Settled>();
  /** When each replica target started, to time it. */
  private readonly replicaStarts = new Map<string, number>();

  constructor(bus: EventBus, registers: Registry[]) {
    const r = { registers };
    this.runs = new Counter({
      ...r,
      name: "syncwarden_runs_total",
      help: "Runs ended, by job and status",
      labelNames: ["job", "status"],
    });
    this.runSeconds = new Histogram({
      ...r,
      name: "syncwarden_run_duration_seconds",
      help: "Run duration",
      labelNames: ["job"],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600],
    });
    this.items = new Counter({
      ...r,
      name: "syncwarden_items_processed_total",
      help: "Items this process settled, by job, phase and outcome (completed, skipped, failed, dead)",
      labelNames: ["job", "phase", "status"],
    });
    this.failures = new Counter({
      ...r,
      name: "syncwarden_item_failures_total",
      help: "Item failures (failed or dead) by job, phase and error class",
      labelNames: ["job", "phase", "class"],
    });
    this.retries = new Counter({
      ...r,
      name: "syncwarden_retries_total",
      help: "Calls to a provider retried after a failure, by provider and error class",
      labelNames: ["provider", "class"],
    });
    this.transitions = new Counter({
      ...r,
      name: "syncwarden_breaker_transitions_total",
      help: "Circuit breaker state changes, by provider (or replica:<replica>:<target>)",
      labelNames: ["provider", "from", "to"],
    });
    this.gateWaits = new Counter({
      ...r,
      name: "syncwarden_rate_gate_waits_total",
      help: "Rate gate pauses, by provider",
      labelNames: ["provider"],
    });
    this.gateWaitSeconds = new Counter({
      ...r,
      name: "syncwarden_rate_gate_wait_seconds_total",
      help: "Seconds of rate gate pauses, by provider",
      labelNames: ["provider"],
    });
    this.replicaSeconds = new Histogram({
      ...r,
      name: "syncwarden_replica_sync_duration_seconds",
      help: "Replica target sync duration, by replica",
      labelNames: ["replica"],
      buckets: [0.05, 0.25, 1, 5, 30, 120, 600],
    });
    this.replicaRuns = new Counter({
      ...r,
      name: "syncwarden_replica_syncs_total",
      help: "Replica target syncs ended, by replica and status",
      labelNames: ["replica", "status"],
    });
    this.replicaConflicts = new Counter({
      ...r,
      name: "syncwarden_replica_conflicts_total",
      help: "Conflicts met by replica syncs, by replica",
      labelNames: ["replica"],
    });
    this.doctor = new Gauge({
      ...r,
      name: "syncwarden_doctor_check_status",
      help: "The last result of each doctor check: 0 ok, 1 warning, 2 critical",
      labelNames: ["check"],
    });
    this.subscription = bus.on((e) => this.take(e));
  }

  private take(e: SyncEvent): void {
    switch (e.type) {
      case "run:end":
        this.runs.inc({ job: e.job, status: e.result.status });
        this.runSeconds.observe({ job: e.job }, e.result.durationSeconds);
        return;
      case "phase:start":
        this.seen.delete(`${e.job}\0${e.phase}`);
        return;
      case "progress":
        return this.progress(e);
      case "item:failed":
        this.failures.inc({ job: e.job, phase: e.phase, class: e.errorClass });
        return;
      case "retry:attempt":
        this.retries.inc({ provider: e.provider, class: e.errorClass });
        return;
      case "breaker:transition":
        this.transitions.inc({ provider: e.provider, from: e.from, to: e.to });
        return;
      case "gate:pause":
        this.gateWaits.inc({ provider: e.provider });
        this.gateWaitSeconds.inc({ provider: e.provider }, e.seconds);
        return;
      case "replica:start":
        this.replicaStarts.set(`${e.replica}\0${e.target}`, e.at);
        return;
      case "replica:end": {
        const key = `${e.replica}\0${e.target}`;
        const started = this.replicaStarts.get(key);
        this.replicaStarts.delete(key);
        if (started !== undefined)
          this.replicaSeconds.observe({ replica: replicaOf(e) }, (e.at - started) / 1000);
        this.replicaRuns.inc({ replica: replicaOf(e), status: e.status });
        if (e.conflicts > 0) this.replicaConflicts.inc({ replica: replicaOf(e) }, e.conflicts);
        return;
      }
      case "health:check":
        this.doctor.set({ check: e.name }, CHECK_STATUS[e.status]);
        return;
      default:
        return;
    }
  }

  /** Counts what settled since the phase's last progress (a tracker's counts only grow; a smaller one is a new tracker). */
  private progress(e: Progress): void {
    const now = e.settled;
    if (!now) return;
    const key = `${e.job}\0${e.phase}`;
    const before = this.seen.get(key);
    const fresh = before === undefined || OUTCOMES.some((o) => now[o] < before[o]);
    for (const o of OUTCOMES) {
      const delta = now[o] - (fresh ? 0 : before[o]);
      if (delta > 0) this.items.inc({ job: e.job, phase: e.phase, status: o }, delta);
    }
    this.seen.set(key, { ...now });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
