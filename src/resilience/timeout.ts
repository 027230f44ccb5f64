import { SyncError } from "../errors.js";

/**
 * Runs `fn` with a signal that aborts after `ms` or when `signal` aborts; the timer is cleared as
 * soon as `fn` settles (no timer or listener outlives the call). `fn` must honour the signal.
 */
export async function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  ms: number,
  signal?: AbortSignal,
): Promise<T> {
  signal?.throwIfAborted();
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new SyncError(`timed out after ${ms} ms`, { code: "TIMEOUT", errorClass: "transient" }));
  }, ms);
  const forward = (): void => controller.abort(signal?.reason);
  signal?.addEventListener("abort", forward, { once: true });
  try {
    return await fn(controller.signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", forward);
  }
}
