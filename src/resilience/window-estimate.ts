import type { RateLimitInfo } from "./retry-after.js";

/** What a call held by the shared pause may do, as this process's window estimate sees it. */
export type Hold = { go: true } | { go: false; wakeInMs: number };

/**
 * A pause that ends within this of a window's reset is the pause to that reset (the ledger's clock is
 * read a moment after this process's). Other pauses, a Retry-After's, are never cut short: in 1 s
 * windows the next window's Retry-After can end just after the old reset.
 */
const SAME_WINDOW_MS = 50;

/** The least share of a window a probe must be able to save. */
const MIN_GAIN = 0.05;

/** One rate limit (per resource and limit) as this process sees it. */
interface Track {
  /** The newest window's reset (epoch ms, whole seconds) and its earliest answer: it began no later. */
  resetAt: number;
  firstAnswerAt: number;
  /** The window length learned from answers that opened a window (whole seconds). */
  lengthMs?: number;
  /** The reset of the newest window proven over: an answer opened a later one. */
  overReset: number;
  /** The one call let through early to find out whether the window `reset` is over. */
  probe?: { reset: number; after: number } | undefined;
}

/**
 * Learns, in this process, where a provider's rate-limit windows really end when each starts at a
 * request and its X-RateLimit-Reset is rounded up to whole seconds (GitHub's): the answer that opened a
 * window (remaining = limit − 1) was sent at `sentAt` and came back at `recvAt`, so the window began
 * within those; when both lie in one second, the window's length is the reset minus that second's end,
 * and a window ends by its first answer plus that length, up to a second before its rounded reset.
 * Against windows aligned to whole seconds the length comes out a second short, so it is never trusted
 * blindly: at that moment one call (the probe) goes while the others wait for its answer; an answer that
 * opened a new window releases them, any other answer or a refusal ends the learning in this process.
 * The shared pause in the ledger is left as it is: other processes wait for the reset as before.
 */
export class WindowEstimate {
  private off = false;
  private readonly tracks = new Map<string, Track>();
  /** Calls sleeping in `sleep`, woken by news (each removes itself, so none is kept after it woke). */
  private readonly sleepers = new Set<() => void>();

  /** Feeds one successful answer's rate-limit headers, received now. */
  observe(
    info: RateLimitInfo,
    resource: string | undefined,
    sentAt: number | undefined,
    recvAt: number,
  ): void {
    const reset = info.resetAt;
    // only epoch-second resets of a known limit can be reasoned about this way
    if (reset === undefined || reset % 1000 !== 0 || info.limit === undefined) return;
    const opened = info.remaining === info.limit - 1;
    const key = `${resource ?? ""}:${info.limit}`;
    const t = this.tracks.get(key) ?? { resetAt: reset, firstAnswerAt: recvAt, overReset: 0 };
    this.tracks.set(key, t);
    let changed = false;
    const probe = t.probe;
    if (probe && sentAt !== undefined && sentAt >= probe.after) {
      t.probe = undefined;
      changed = true;
      // sent at the estimated end, it must have opened the next window; else the estimate is wrong here
      if (!(opened && reset > probe.reset)) this.off = true;
    }
    if (reset > t.resetAt) {
      if (opened) {
        t.overReset = t.resetAt;
        changed = true;
      }
      t.resetAt = reset;
      t.firstAnswerAt = recvAt;
    } else if (reset === t.resetAt) t.firstAnswerAt = Math.min(t.firstAnswerAt, recvAt);
    if (opened && sentAt !== undefined && !this.off) {
      const second = Math.ceil(sentAt / 1000) * 1000;
      // the window began in (second − 1 s, second] only when the request did not straddle a second
      if (second === Math.ceil(recvAt / 1000) * 1000 && reset - second >= 1000)
        t.lengthMs = Math.max(t.lengthMs ?? 0, reset - second);
    }
    if (changed) this.notify();
  }

  /**
   * A call finds the shared pause running until `pausedUntil`: it may go when an answer proved that
   * pause's window over, or as the probe when the window should be over by now; else it waits until
   * the estimated end, the pause's end, or news (whichever comes first).
   */
  hold(pausedUntil: number, now = Date.now()): Hold {
    let wakeAt = pausedUntil;
    for (const t of this.tracks.values()) {
      if (Math.abs(pausedUntil - t.overReset) < SAME_WINDOW_MS) return { go: true };
      if (this.off || t.lengthMs === undefined || Math.abs(pausedUntil - t.resetAt) >= SAME_WINDOW_MS)
        continue;
      if (t.probe?.reset === t.resetAt) continue; // its answer is awaited
      const end = Math.min(t.firstAnswerAt + t.lengthMs, t.resetAt);
      // a probe is a call while the gate is closed: only worth it for a real share of the window (not for
      // the under-a-second an hour-long window can gain)
      if (pausedUntil - end < t.lengthMs * MIN_GAIN) continue;
      if (now >= end) {
        t.probe = { reset: t.resetAt, after: now };
        return { go: true };
      }
      wakeAt = Math.min(wakeAt, end);
    }
    return { go: false, wakeInMs: wakeAt - now };
  }

  /**
   * A call was refused for the rate limit: no window is taken as over any more (the pause holds every
   * call until it ends), and if a probe was out, the estimate was wrong: learn no more.
   */
  refused(): void {
    let probing = false;
    for (const t of this.tracks.values()) {
      if (t.probe) probing = true;
      t.probe = undefined;
      t.overReset = 0;
    }
    if (!probing) return;
    this.off = true;
    this.notify();
  }

  /** False once a probe found the estimate wrong (this process then waits for every reset). */
  get learning(): boolean {
    return !this.off;
  }

  /** Sleeps `ms`, or less when news comes (a probe's answer, a refusal) or the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      this.sleepers.add(done);
    });
  }

  private notify(): void {
    for (const wake of [...this.sleepers]) wake();
  }
}
