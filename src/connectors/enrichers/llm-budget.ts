import { BudgetSpentError } from "../../errors.js";
import type { KeyValueStore } from "../types.js";

/** Tokens spent per run (keyed by run, provider, job and phase), for the step instances of one run. */
const runShares = new Map<string, { used: number }>();
/** Runs remembered at most (the oldest are forgotten: their runs ended long ago). */
const MAX_RUNS = 256;

function runShare(key: string | undefined): { used: number } {
  if (key === undefined) return { used: 0 };
  let share = runShares.get(key);
  if (!share) {
    share = { used: 0 };
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
  private readonly run: { used: number };
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

  /** Reserves `tokens`, or throws BudgetSpentError (naming which budget) when they do not fit. */
  reserve(tokens: number): Promise<void> {
    return this.serial(async () => {
      const { perRun, perDay } = this.limits;
      if (perRun !== undefined && this.run.used + tokens > perRun)
        throw new BudgetSpentError(`token budget of ${perRun} per run reached`);
      if (perDay !== undefined) {
        const key = this.dayKey();
        const day = Number((await this.cache.get(key)) ?? 0);
        if (day + tokens > perDay) throw new BudgetSpentError(`token budget of ${perDay} per day reached`);
        await this.cache.set(key, String(day + tokens));
      }
      this.run.used += tokens;
    });
  }

  /** A reserved request ended: `actual` tokens replace its estimate (0 when it was not answered). */
  settle(estimate: number, actual: number): Promise<void> {
    return this.serial(async () => {
      this.run.used += actual - estimate;
      if (this.limits.perDay === undefined) return;
      const key = this.dayKey();
      const day = Number((await this.cache.get(key)) ?? 0);
      await this.cache.set(key, String(Math.max(0, day + actual - estimate)));
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
