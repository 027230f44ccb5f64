/** Runs `fn` with a signal that aborts after `ms` or when `signal` aborts. The caller's fn must honour the signal. */
export async function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  ms: number,
  signal?: AbortSignal,
): Promise<T> {
  const timer = AbortSignal.timeout(ms);
  return fn(signal ? AbortSignal.any([signal, timer]) : timer);
}
