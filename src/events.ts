import type { ErrorClass } from "./errors.js";
import type { PhaseResult, Progress, SyncResult } from "./results.js";

/** Every event syncwarden emits, one typed map (namespaced like graphile-worker's). */
export interface EventMap {
  "run:start": { runId: string; job: string; trigger: string; forced: boolean };
  "run:end": { runId: string; job: string; result: SyncResult };
  /** A run whose process died was closed as interrupted (by the next run of its job, or doctor --repair). */
  "run:interrupted": { runId: string; job: string; message: string };
  "phase:start": { job: string; phase: string; checkpoint: string | null };
  "plan:recorded": {
    job: string;
    phase: string;
    planId: number;
    mode: "snapshot" | "delta";
    from: string | null;
    target: string | null;
    total: number;
    resumed: boolean;
  };
  "leases:requeued": { job: string; phase: string; count: number };
  /** A worker joined a plan another process opened (`syncwarden worker`), and when it left, what it did. */
  "plan:joined": { job: string; phase: string; planId: number; owner: string };
  "plan:left": { job: string; phase: string; planId: number; owner: string; closed: boolean };
  progress: Progress;
  "item:failed": {
    job: string;
    phase: string;
    key: string;
    errorClass: ErrorClass;
    message: string;
    attempts: number;
    dead: boolean;
  };
  "retry:wait": { job: string; phase: string; seconds: number };
  "checkpoint:moved": { job: string; phase: string; from: string | null; to: string | null };
  "phase:end": { job: string; phase: string; result: PhaseResult };
  "nuke:done": { job: string };
  "debts:paid": { job: string; paid: number; remaining: number };
  /** DEAD items older than `sync.redrive_dead_after` went back to PENDING with a fresh attempt budget. */
  "items:redriven": { job: string; count: number; olderThan: string };
  /** Another runner holds the job: this run waits for it. */
  "lock:wait": { job: string; message: string };
  /** The lock of a stopped runner was taken over. */
  "lock:reclaimed": { job: string; message: string };
  /** `[CIRCUIT]`: a provider's (or a replica target's) breaker changed state. */
  "breaker:transition": { provider: string; from: string; to: string; reason: string };
  /** `[RETRY]`: a call failed and is retried after a delay. */
  "retry:attempt": {
    provider: string;
    attempt: number;
    maxAttempts: number;
    delayMs: number;
    /** The failure's class (what metrics label retries with). */
    errorClass: ErrorClass;
    message: string;
  };
  /** `[RATE]`: a provider's shared gate paused. */
  "gate:pause": {
    provider: string;
    seconds: number;
    reason: string;
    /** Epoch ms it reopens. */ until: number;
  };
  "replica:start": { replica: string; target: string };
  /** A target started applying changes, or reached a checkpoint of them. */
  "replica:progress": { replica: string; target: string; message: string };
  "replica:end": {
    replica: string;
    target: string;
    status: string;
    copied: number;
    deleted: number;
    conflicts: number;
    errors: number;
    message?: string;
  };
  /** An alert (or its resolution, or a test) reached a webhook. */
  "alert:sent": {
    alert: string;
    webhook: string;
    status: "firing" | "resolved" | "test";
    httpStatus: number;
  };
  /** A delivery failed; it stays pending and is tried again on the next health pass. */
  "alert:failed": { alert: string; webhook: string; status: "firing" | "resolved" | "test"; message: string };
  "health:check": { name: string; status: "ok" | "warning" | "critical"; message: string };
  "health:repair": { name: string; ok: boolean; message: string; job?: string };
}

export type EventName = keyof EventMap;

/** What every event carries besides its payload: when it happened. */
export interface Envelope {
  at: number;
}

/** One event: its name in `type`, its payload, and the envelope. */
export type SyncEvent = { [K in EventName]: { type: K } & Envelope & EventMap[K] }[EventName];
export type EventOf<K extends EventName> = Extract<SyncEvent, { type: K }>;
export type Listener = (event: SyncEvent) => void;

/** A subscription; dispose() ends it. */
export interface Disposable {
  dispose(): void;
}

/**
 * The one observation channel: every part emits typed events here, and the events table, the log,
 * the CLI renderer, MCP progress notifications and the daemon's log subscribe. A listener that throws
 * never stops an emitter.
 */
export class EventBus {
  private readonly listeners = new Set<Listener>();

  on(listener: Listener): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  emit<K extends EventName>(type: K, payload: EventMap[K]): void {
    if (this.listeners.size === 0) return;
    const event = { type, at: Date.now(), ...payload } as SyncEvent;
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // an observer's failure is its own
      }
    }
  }
}
