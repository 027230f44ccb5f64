import { explainNextRun, parseSchedules, type Schedule } from "../config/schedule.js";
import { errorMessage, isLockedError } from "../errors.js";
import type { SyncService } from "../service/sync-service.js";
import { realClock, type Clock } from "./daemon.js";
import type { DaemonLogger } from "./log.js";

const isAborted = (signal: AbortSignal): boolean => signal.aborted;

export interface WorkerOptions {
  /** The jobs this worker serves (default: every job of the configuration). */
  jobs: readonly string[];
  /** Items in flight from this process. */
  concurrency: number;
  /** How long an idle worker waits before looking for open plans again (ms). */
  pollMs: number;
  logger: DaemonLogger;
  clock?: Clock;
}

/**
 * A long-lived worker (`syncwarden worker`): joins the open plans of its jobs beside every other worker
 * and runner (leases and fencing tokens keep them apart), and plans a new run of a job when it is due and
 * nobody holds the job's lock (whoever takes the lock plans; the others join). A job with a schedule is
 * due by it; a job without one only before its first run (later runs come from `run` or a schedule). A
 * plan left in planning (its planner died before it opened it) makes the job due too: the worker that
 * gets the lock plans again, and no person is needed.
 */
export class Worker {
  private readonly schedules: Map<string, Schedule>;
  private readonly clock: Clock;

  constructor(
    private readonly sync: SyncService,
    private readonly o: WorkerOptions,
  ) {
    this.schedules = parseSchedules(sync.loaded.config.jobs, sync.loaded.file);
    this.clock = o.clock ?? realClock;
  }

  /** Loops until the signal aborts; in-flight items settle before it returns. */
  async start(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let busy = false;
      for (const job of this.o.jobs) {
        // (read through a call: a visit may have aborted it)
        if (isAborted(signal)) break;
        try {
          busy = (await this.visit(job, signal)) || busy;
        } catch (e) {
          this.o.logger.error(
            { event: "worker:error", job, err: { message: errorMessage(e) } },
            `${job}: ${errorMessage(e)}`,
          );
        }
      }
      if (!busy) await this.clock.sleep(this.o.pollMs, signal);
    }
  }

  /** One look at a job: join its open plans, else plan a run if it is due; true when there was work. */
  private async visit(job: string, signal: AbortSignal): Promise<boolean> {
    const joined = await this.sync.join(job, { workers: this.o.concurrency, signal });
    if (joined.joined > 0) {
      this.o.logger.info(
        { event: "worker:joined", job, plans: joined.joined, closed: joined.closed },
        `${job}: worked on ${joined.joined} open plan(s)${joined.closed > 0 ? `, closed ${joined.closed}` : ""}`,
      );
      return true;
    }
    if (!(await this.due(job))) return false;
    try {
      const result = await this.sync.execute({
        job,
        trigger: "worker",
        options: { wait: false },
        signal,
      });
      this.o.logger.info(
        { event: "worker:ran", job, status: result.status, runId: result.runId },
        `${job}: run ${result.runId} ${result.status} in ${result.durationSeconds}s`,
      );
    } catch (e) {
      // another runner holds the lock (planning now, or its lease not yet expired): it plans, this one
      // joins on a later look, after its poll
      if (!isLockedError(e)) throw e;
      return false;
    }
    return true;
  }

  private async due(job: string): Promise<boolean> {
    const facts = await this.sync.scheduleFacts(job);
    const schedule = this.schedules.get(job);
    const now = this.clock.now();
    if (schedule && explainNextRun(schedule, facts.lastSuccess, facts.lastStart, now).due) return true;
    if (!schedule && facts.lastStart === null) return true;
    return this.sync.planningLeft(job);
  }
}
