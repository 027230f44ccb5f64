import { BudgetSpentError } from "../../errors.js";
import type { KeyValueStore } from "../types.js";

/** Tokens spent per run (keyed by run, provider, job and phase), for the step instances of one run. */
interface RunShare {
  used: number;
  /** Reservations not settled yet: their answers may use less than they reserved. */
  pending: number;
  /** Reservations waiting for a settlement before deciding. */
  waiters: Set<() => void>;
}

const fresh = (): RunShare => ({ used: 0, pending: 0, waiters: new Set() });
const runShares = new Map<string, RunShare>();
/** Runs remembered at most (the oldest are forgotten: their runs ended long ago). */
const MAX_RUNS = 256;

function runShare(key: string | undefined): RunShare {
  if (key === undefined) return fresh();
  let share = runShares.get(key);
  if (!share) {
    share = fresh();
    runShares.set(key, share);
    if (runShares.size > MAX_RUNS) runShares.delete(runShares.keys().next().value!);
  }
  return share;
}

export interface BudgetLimits {
  perRun?: number | undefined;
  perDay?: number | undefined;
}

/**
 * llm-extract's token budget: per run (shared by the step's instances of one run: its phase and the
 * debts it pays; this instance alone outside a run) and per UTC day (a meta value per provider and day,
 * shared by every run and process on the ledger). A request reserves its estimate before it is
 * sent, so concurrent requests cannot pass the budget; its answer's usage replaces the estimate.
 * Reservations in this process are serialised; between processes the day's value is read then written,
 * so two processes reserving at the same moment may pass it by a request each.
 */
export class TokenBudget {
  private readonly run: RunShare;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly limits: BudgetLimits,
    private readonly provider: string,
    private readonly cache: KeyValueStore,
    /** The run's key (its id, with the step's provider, job and phase), or undefined outside a run. */
    runKey: string | undefined,
    private readonly today: () => string = () => new Date().toISOString().slice(0, 10),
  ) {
    this.run = runShare(runKey);
  }

  /** Tokens this run reserved or spent so far. */
  get spent(): number {
    return this.run.used;
  }

  /**
   * Reserves `tokens`, or throws BudgetSpentError (naming which budget) when they do not fit; while
   * reservations of this run are still out (their answers may cost less), it waits for them first.
   */
  async reserve(tokens: number): Promise<void> {
    for (;;) {
      const verdict = await this.serial(() => this.tryReserve(tokens));
      if (verdict === undefined) return;
      if (this.run.pending === 0) throw new BudgetSpentError(verdict);
      await new Promise<void>((resolve) => this.run.waiters.add(resolve));
    }
  }

  /** Undefined when reserved, else why not. */
  private async tryReserve(tokens: number): Promise<string | undefined> {
    const { perRun, perDay } = this.limits;
    if (perRun !== undefined && this.run.used + tokens > perRun)
      return `token budget of ${perRun} per run reached`;
    if (perDay !== undefined) {
      const key = this.dayKey();
      const day = Number((await this.cache.get(key)) ?? 0);
      if (day + tokens > perDay) return `token budget of ${perDay} per day reached`;
      await this.cache.set(key, String(day + tokens));
    }
    this.run.used += tokens;
    this.run.pending++;
    return undefined;
  }

  /** A reserved request ended: `actual` tokens replace its estimate (0 when it was not answered). */
  settle(estimate: number, actual: number): Promise<void> {
    return this.serial(async () => {
      this.run.used += actual - estimate;
      this.run.pending--;
      try {
        if (this.limits.perDay === undefined) return;
        const key = this.dayKey();
        const day = Number((await this.cache.get(key)) ?? 0);
        await this.cache.set(key, String(Math.max(0, day + actual - estimate)));
      } finally {
        for (const wake of this.run.waiters) wake();
        this.run.waiters.clear();
      }
    });
  }

  private dayKey(): string {
    return `llm-extract:tokens:${this.provider}:${this.today()}`;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
