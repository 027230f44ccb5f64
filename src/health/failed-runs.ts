import type { RunStore } from "../ledger/run-store.js";
import { check, type CheckResult } from "./types.js";

interface FailedRun {
  job: string;
  runId: string;
  finishedAt: string | null;
  error: string;
}

/** The error a failed run recorded in its result (`error.message`), or what little is known. */
function errorOf(result: unknown): string {
  const error = (result as { error?: { errorClass?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.message !== "string") return "no error recorded";
  return typeof error.errorClass === "string" ? `(${error.errorClass}) ${error.message}` : error.message;
}

/** Jobs whose last run failed (a repository gone, a branch deleted): they stay failed until someone acts. */
export async function checkFailedRuns(runs: RunStore, jobs: readonly string[]): Promise<CheckResult> {
  const failed: FailedRun[] = [];
  for (const job of jobs) {
    const [last] = await runs.list(job, 1);
    if (last?.status !== "failed") continue;
    failed.push({
      job,
      runId: last.id,
      finishedAt: last.finishedAt === null ? null : new Date(last.finishedAt).toISOString(),
      error: errorOf(last.result),
    });
  }
  if (failed.length === 0) return check("failed-runs", "ok", "no job's last run failed", { failed });
  const text = failed
    .map((f) => `${f.job}: last run failed${f.finishedAt ? ` at ${f.finishedAt}` : ""}: ${f.error}`)
    .join("; ");
  return check("failed-runs", "warning", text, { failed });
}
