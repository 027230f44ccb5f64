/**
 * better-sqlite3 is synchronous: a store method that fails (SQLITE_BUSY past the timeout, a full disk)
 * would throw at the call. The role stores are async by contract, so each method of the store is
 * wrapped to reject its promise instead. The store itself is left as it is (its synchronous helpers
 * must still throw inside the transactions that call them).
 */
export function rejecting<T extends object>(store: T): T {
  const proto = Object.getPrototypeOf(store) as Record<string, unknown>;
  const wrapped = Object.create(store) as T;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const fn = proto[name];
    if (name === "constructor" || typeof fn !== "function") continue;
    if (fn.constructor.name === "AsyncGeneratorFunction") continue; // its errors already reject
    const method = fn as (...args: unknown[]) => unknown;
    Object.defineProperty(wrapped, name, {
      value: (...args: unknown[]): unknown => {
        try {
          return method.apply(store, args);
        } catch (e) {
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
      },
    });
  }
  return wrapped;
}
