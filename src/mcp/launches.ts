import type { ReplicaResult } from "../service/replica-service.js";
import type { SyncService } from "../service/sync-service.js";
import type { SyncResult } from "../service/types.js";

/** Where an operation a tool started stands: waiting for its lock, running, or ended. */
export type LaunchState = "waiting" | "running" | "ended";

/** One long operation (a sync run, a replication) a tool started and answered before it ended. */
export interface Launch<R> {
  id: string;
  /** The job, or the replica selection. */
  name: string;
  state: LaunchState;
  startedAt: string;
  endedAt: string | null;
  result: R | null;
  /** Why it could not run (a held lock, an unknown phase), when it threw instead of returning a result. */
  error: unknown;
  /** Aborts it (cancel_sync, the server's shutdown); the ledger stays resumable. */
  readonly controller: AbortController;
  /** Resolves (never rejects) when it has ended. */
  readonly settled: Promise<void>;
  /** Resolves when it stopped waiting: it runs, or it ended. */
  readonly begun: Promise<void>;
}

/** How long the newest ended launches stay visible to status tools. */
const KEEP_ENDED = 100;

/**
 * The operations MCP tools started, shared by every session of one server process so that any client can
 * follow or cancel them. Each is held in `inflight` until it settles (the CLI awaits them before closing).
 */
export class Launches<R> {
  private readonly all = new Map<string, Launch<R>>();
  private readonly begins = new Map<string, () => void>();

  constructor(private readonly inflight?: Set<Promise<unknown>>) {}

  start(
    id: string,
    name: string,
    signal: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<R>,
  ): Launch<R> {
    const controller = new AbortController();
    let begin!: () => void;
    const begun = new Promise<void>((resolve) => (begin = resolve));
    const both = signal ? AbortSignal.any([controller.signal, signal]) : controller.signal;
    const launch: Launch<R> = {
      id,
      name,
      state: "waiting",
      startedAt: new Date().toISOString(),
      endedAt: null,
      result: null,
      error: undefined,
      controller,
      settled: Promise.resolve(),
      begun,
    };
    this.begins.set(id, begin);
    const end = (): void => {
      begin();
      this.begins.delete(id);
      launch.state = "ended";
      launch.endedAt = new Date().toISOString();
      this.inflight?.delete(launch.settled);
      this.prune();
    };
    const settled = run(both).then(
      (result) => {
        launch.result = result;
        end();
      },
      (e: unknown) => {
        launch.error = e;
        end();
      },
    );
    (launch as { settled: Promise<void> }).settled = settled;
    this.inflight?.add(settled);
    this.all.set(id, launch);
    return launch;
  }

  /** It got its lock and runs. */
  markRunning(id: string): void {
    const launch = this.all.get(id);
    if (launch?.state !== "waiting") return;
    launch.state = "running";
    this.begins.get(id)?.();
  }

  get(id: string): Launch<R> | undefined {
    return this.all.get(id);
  }

  /** Newest first. */
  list(name?: string): Launch<R>[] {
    return [...this.all.values()].filter((l) => name === undefined || l.name === name).reverse();
  }

  private prune(): void {
    const ended = [...this.all.values()].filter((l) => l.state === "ended");
    for (const l of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) this.all.delete(l.id);
  }
}

/** True when `until` resolved within ms; false when the time ran out or the request was cancelled first. */
export async function within(until: Promise<void>, ms: number, signal: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const out = await Promise.race([
    until.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
      onAbort = () => resolve(false);
      signal.addEventListener("abort", onAbort, { once: true });
    }),
  ]);
  clearTimeout(timer);
  if (onAbort) signal.removeEventListener("abort", onAbort);
  return out;
}

/** The runs and replications MCP tools started in this process. */
export interface McpLaunches {
  runs: Launches<SyncResult>;
  replications: Launches<ReplicaResult>;
}

/** One set per server process (every HTTP session shares it); a run is marked running at its run:start. */
export function createLaunches(sync: SyncService, inflight?: Set<Promise<unknown>>): McpLaunches {
  const runs = new Launches<SyncResult>(inflight);
  sync.on((e) => {
    if (e.type === "run:start") runs.markRunning(e.runId);
  });
  return { runs, replications: new Launches<ReplicaResult>(inflight) };
}
