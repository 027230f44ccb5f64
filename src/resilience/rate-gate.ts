import type { EventBus } from "../events.js";
import type { CallState, ResilienceStore } from "../ledger/resilience-store.js";
import { header, parseRateLimit, type HeaderBag } from "./retry-after.js";
import { sleep } from "./sleep.js";
import { WindowEstimate } from "./window-estimate.js";

export interface RateGateOptions {
  /** A token bucket shared across processes: `requests` per `perSeconds`, bursts of at most `burst`. */
  rate?: { requests: number; perSeconds: number; burst: number };
  /** Calls this process may have in flight (the bulkhead's size). */
  inFlight: number;
  /**
   * The share of a window's limit left unused (0–0.5): once X-RateLimit-Remaining falls to it, the gate
   * closes until the reset for every process, so calls of other processes still in flight fit under it.
   */
  reserve?: number;
  /**
   * The calls in flight are capped across processes (`others` counts every process's): they are kept
   * room for as a reserve is, and nothing goes early while the gate is closed.
   */
  sharedInFlight?: boolean;
}

/** A provider's shared pause, header-driven pacing and optional token bucket (the ledger's clock decides). */
export class RateGate {
  /** Where windows that start at a request really end, learned and verified in this process. */
  readonly windows = new WindowEstimate();

  constructor(
    readonly provider: string,
    private readonly store: ResilienceStore,
    private readonly o: RateGateOptions,
    private readonly events?: EventBus,
  ) {}

  /**
   * Waits until the provider may be called: the shared pause over, then (with `rate`) this call's token
   * reserved and due; a pause set while it waited is waited out too. Returns at once on abort.
   */
  async wait(signal?: AbortSignal): Promise<void> {
    await this.waitFrom(await this.store.readCallState(this.provider), signal);
  }

  /**
   * wait() from a reading just made. Returns that reading when the call may go at once without
   * another look (nothing waited for), else undefined.
   */
  async waitFrom(first: CallState, signal?: AbortSignal): Promise<CallState | undefined> {
    let reserved = false;
    // a pause this call was let through (as the probe, or its window proven over) holds it no more
    let passed = 0;
    let state: CallState | undefined = first;
    for (let i = 0; i < 100_000 && !signal?.aborted; i++) {
      const { pausedUntil, now } = state ?? (await this.store.readCallState(this.provider));
      if (pausedUntil - now > 0 && pausedUntil > passed) {
        state = undefined;
        // with a reserve nothing goes while the gate is closed: a probe would spend what the reserve
        // keeps for calls already in flight
        const hold = this.o.reserve || this.o.sharedInFlight ? undefined : this.windows.hold(pausedUntil);
        if (!hold?.go) {
          await this.windows.sleep(Math.min(pausedUntil - now, hold?.wakeInMs ?? Infinity), signal);
          continue;
        }
        passed = pausedUntil;
      }
      if (!this.o.rate || reserved) return state;
      const { requests, perSeconds, burst } = this.o.rate;
      const waitMs = await this.store.reserveToken(this.provider, burst, requests / (perSeconds * 1000));
      reserved = true;
      // the reservation may have waited for the ledger's write lock: look at the pause again before going
      state = undefined;
      if (waitMs > 0) await sleep(waitMs, signal);
    }
    return undefined;
  }

  /**
   * Pauses every process's calls to this provider for `forMs` from now (extends, never shortens); a
   * probe of this process's window estimate then out was refused, so the estimate is dropped.
   */
  async pause(forMs: number, reason: string): Promise<void> {
    this.windows.refused();
    const until = Date.now() + forMs;
    if (await this.store.pauseGate(this.provider, forMs, reason))
      this.events?.emit("gate:pause", { provider: this.provider, seconds: forMs / 1000, reason, until });
  }

  /**
   * Paces from X-RateLimit-Remaining / Reset: pauses to the reset before the remaining calls run
   * out, counting the calls still in flight (`others`), which will spend some of them, and keeping the
   * reserve. With a token bucket pacing the calls, only an exhausted window (or the reserve) pauses.
   * `sentAt` (when the request left) lets the window estimate learn where windows that start at a
   * request end.
   */
  async observe(headers: HeaderBag, others: number, sentAt?: number): Promise<void> {
    // the reset is the server's time: its distance from this process's clock is what to wait
    const now = Date.now();
    const info = parseRateLimit(headers, now);
    if (info) this.windows.observe(info, header(headers, "x-ratelimit-resource"), sentAt, now);
    if (!info || info.resetAt === undefined || info.resetAt <= now) return;
    const reserved = info.limit === undefined ? 0 : Math.ceil(info.limit * (this.o.reserve ?? 0));
    // calls in flight spend some of what remains; with a bucket and no reserve, only an exhausted window pauses
    const inFlight = this.o.rate && !this.o.reserve && !this.o.sharedInFlight ? 0 : others;
    if (info.remaining <= Math.max(inFlight, reserved)) {
      await this.pause(
        info.resetAt - now,
        `X-RateLimit-Remaining ${info.remaining}, resets in ${Math.ceil((info.resetAt - now) / 1000)}s`,
      );
    }
  }
}
