import type { Ledger } from "../ledger/ledger.js";
import { parseRateLimit, type HeaderBag } from "./retry-after.js";
import { sleep } from "./sleep.js";

export interface RateGateOptions {
  /** A token bucket shared across processes: `requests` per `perSeconds`, bursts of at most `burst`. */
  rate?: { requests: number; perSeconds: number; burst: number };
  /** Calls this process may have in flight (the bulkhead's size). */
  inFlight: number;
}

export interface RateEvent {
  provider: string;
  message: string;
}

/** A provider's shared pause (`paused_until`), header-driven pacing and optional token bucket. */
export class RateGate {
  constructor(
    readonly provider: string,
    private readonly ledger: Ledger,
    private readonly o: RateGateOptions,
    private readonly onEvent: (e: RateEvent) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Waits until the provider may be called: the shared pause over, then (with `rate`) this call's token
   * reserved and due; a pause set while it waited is waited out too. Returns at once on abort.
   */
  async wait(signal?: AbortSignal): Promise<void> {
    let reserved = false;
    for (let i = 0; i < 100_000 && !signal?.aborted; i++) {
      const gate = await this.ledger.readGate(this.provider);
      const pause = (gate?.pausedUntil ?? 0) - this.now();
      if (pause > 0) {
        await sleep(pause, signal);
        continue;
      }
      if (!this.o.rate || reserved) return;
      const { requests, perSeconds, burst } = this.o.rate;
      const waitMs = await this.ledger.reserveToken(
        this.provider,
        burst,
        requests / (perSeconds * 1000),
        this.now(),
      );
      reserved = true;
      if (waitMs === 0) return;
      await sleep(waitMs, signal);
    }
  }

  /** Pauses every process's calls to this provider until `until` (extends, never shortens). */
  async pause(until: number, reason: string): Promise<void> {
    const before = (await this.ledger.readGate(this.provider))?.pausedUntil ?? 0;
    await this.ledger.pauseGate(this.provider, until, reason, this.now());
    if (until > before + 50) {
      this.onEvent({
        provider: this.provider,
        message: `paused ${((until - this.now()) / 1000).toFixed(1)}s (${reason})`,
      });
    }
  }

  /**
   * Paces from X-RateLimit-Remaining / Reset: pauses to the reset before the remaining calls run
   * out, counting the calls still in flight (`others`), which will spend some of them. With a token
   * bucket pacing the calls, only an exhausted window pauses.
   */
  async observe(headers: HeaderBag, others: number): Promise<void> {
    const now = this.now();
    const info = parseRateLimit(headers, now);
    if (!info || info.resetAt === undefined || info.resetAt <= now) return;
    if (info.remaining <= (this.o.rate ? 0 : others)) {
      await this.pause(
        info.resetAt,
        `X-RateLimit-Remaining ${info.remaining}, resets in ${Math.ceil((info.resetAt - now) / 1000)}s`,
      );
    }
  }
}
