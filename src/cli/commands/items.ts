import type { ItemRow, ItemStatus } from "../../ledger/types.js";
import type { SyncService } from "../../service/sync-service.js";
import { printJson, withService, type GlobalOptions } from "../context.js";

function checkJob(service: SyncService, job: string | undefined): void {
  if (job !== undefined) service.job(job);
}

/** `syncwarden failed [JOB]`: FAILED and DEAD items with their error class and message. */
export async function failedCommand(
  job: string | undefined,
  opts: GlobalOptions & { json?: boolean },
): Promise<number> {
  return withService(opts, async (service) => {
    checkJob(service, job);
    const rows: ItemRow[] = [];
    for await (const r of service.ledger.listItems({ ...(job ? { job } : {}), statuses: ["FAILED", "DEAD"] }))
      rows.push(r);
    if (opts.json) {
      printJson(
        rows.map((r) => ({
          job: r.job,
          phase: r.phase,
          key: r.key,
          status: r.status,
          attempts: r.attempts,
          errorClass: r.errorClass,
          error: r.errorMessage,
          reason: r.reason,
          nextAttemptAt: r.nextAttemptAt === null ? null : new Date(r.nextAttemptAt).toISOString(),
        })),
      );
    } else if (rows.length === 0) {
      process.stdout.write("no failed or dead items\n");
    } else {
      for (const r of rows) {
        process.stdout.write(
          `${r.status}\t${r.job}/${r.phase}\t${r.key}\t${r.errorClass ?? "-"}\tattempts=${r.attempts}\t${r.errorMessage ?? ""}\n`,
        );
      }
    }
    return 0;
  });
}

/** `syncwarden retry [JOB] [--dead]`: FAILED (and with --dead, DEAD) items back to PENDING for the next run. */
export async function retryCommand(
  job: string | undefined,
  opts: GlobalOptions & { dead?: boolean; debts?: boolean; json?: boolean },
): Promise<number> {
  return withService(opts, async (service) => {
    checkJob(service, job);
    if (opts.debts) {
      const outcomes = [];
      for (const name of job === undefined ? service.jobNames() : [job])
        outcomes.push({ job: name, ...(await service.payDebts(name)) });
      if (opts.json) printJson(outcomes);
      else
        for (const o of outcomes) {
          process.stderr.write(
            `${o.job}: paid ${o.paid} debts; ${o.remaining} remain${o.stillDown.length > 0 ? ` (still down: ${o.stillDown.join(", ")})` : ""}\n`,
          );
        }
      return outcomes.some((o) => o.remaining > 0) ? 3 : 0;
    }
    const statuses: ItemStatus[] = opts.dead ? ["FAILED", "DEAD"] : ["FAILED"];
    const n = await service.retryFailed(job, opts.dead ?? false);
    if (opts.json) printJson({ requeued: n, statuses });
    else
      process.stderr.write(
        `requeued ${n} item${n === 1 ? "" : "s"} (${statuses.join(", ")}); \`syncwarden run${job ? ` ${job}` : ""}\` processes them\n`,
      );
    return 0;
  });
}
