import type { Command } from "commander";
import type { SyncService } from "../../service/sync-service.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";

interface RetryOptions extends GlobalOptions {
  dead?: boolean;
  debts?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("retry")
    .description("requeue failed items (with --dead, dead ones too) for the next run")
    .argument("[job]")
    .option("--dead", "also requeue dead items, with a fresh attempt budget")
    .option("--debts", "pay enrichment debts now (items stored raw while a provider was down)")
    .option("--json", "print the count as JSON on stdout")
    .action(
      act((job: string | undefined, _o: unknown, cmd: Command) =>
        retryCommand(job, globalsOf<RetryOptions>(cmd)),
      ),
    );
}

/** `retry --debts`: pays every job's (or one job's) debts; exit 3 while some remain. */
async function payDebts(sync: SyncService, job: string | undefined, json: boolean): Promise<number> {
  const outcomes = [];
  for (const name of job === undefined ? sync.jobNames() : [job])
    outcomes.push({ job: name, ...(await sync.payDebts(name)) });
  if (json) printJson(outcomes);
  else
    for (const o of outcomes)
      process.stderr.write(
        `${o.job}: paid ${o.paid} debts; ${o.remaining} remain${o.stillDown.length > 0 ? ` (still down: ${o.stillDown.join(", ")})` : ""}\n`,
      );
  return outcomes.some((o) => o.remaining > 0) ? EXIT.partial : EXIT.ok;
}

/** `syncwarden retry [JOB] [--dead]`: FAILED (and with --dead, DEAD) items back to PENDING for the next run. */
async function retryCommand(job: string | undefined, opts: RetryOptions): Promise<number> {
  return withServices({ ...opts, jobs: [job] }, async ({ sync }) => {
    if (job !== undefined) sync.job(job);
    if (opts.debts) return payDebts(sync, job, opts.json ?? false);
    const statuses = opts.dead ? ["FAILED", "DEAD"] : ["FAILED"];
    const n = await sync.retryFailed(job, opts.dead ?? false);
    if (opts.json) printJson({ requeued: n, statuses });
    else
      process.stderr.write(
        `requeued ${n} item${n === 1 ? "" : "s"} (${statuses.join(", ")}); \`syncwarden run${job ? ` ${job}` : ""}\` processes them\n`,
      );
    return EXIT.ok;
  });
}
