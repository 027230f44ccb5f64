import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Ledger } from "../../src/ledger/ledger.js";
import { openSqliteLedger } from "../../src/ledger/sqlite/sqlite-ledger.js";
import type { PolicyOptions } from "../../src/resilience/policy.js";

/** A fresh SQLite ledger in a temp folder. */
export function tempLedger(): {
  ledger: Ledger;
  dir: string;
  file: string;
  cleanup: () => Promise<void>;
} {
  const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-res-"));
  const file = path.join(dir, "state.db");
  const ledger = openSqliteLedger(file);
  return {
    ledger,
    dir,
    file,
    cleanup: async () => {
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Small delays so tests run fast; override what a test is about. */
export function fastPolicy(over: Partial<PolicyOptions> = {}): PolicyOptions {
  return {
    retry: {
      maxAttempts: 3,
      baseDelayMs: 10,
      maxDelayMs: 50,
      exponentialBase: 2,
      jitter: "full",
      budgetMs: 20_000,
    },
    breaker: {
      failureThreshold: 3,
      successThreshold: 1,
      timeoutMs: 200,
      maxTimeoutMs: 1000,
      halfOpenMaxCalls: 1,
      probeLeaseMs: 5000,
    },
    timeoutMs: 2000,
    concurrency: 8,
    pauseOnRateLimit: true,
    rateLimitWaitMs: 100,
    enabled: true,
    classify: {},
    ...over,
  };
}
