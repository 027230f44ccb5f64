import type { Command } from "commander";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { payDebts } from "./debts.js";

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
