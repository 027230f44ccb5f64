import type { Command } from "commander";
import type { SyncService } from "../../service/sync-service.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { positiveInt } from "../flags.js";

interface DebtFlags extends GlobalOptions {
  json?: boolean;
  limit?: string;
}

export function register(program: Command): void {
  const debts = program
    .command("debts")
    .description("enrich steps owed for items stored raw while a provider was down (or out of budget)");
  debts
    .command("list", { isDefault: true })
    .description("the debts, oldest first: job/phase, key, step, provider, attempts and the last reason")
    .argument("[job]")
    .option("--limit <n>", "at most n debts", "100")
    .option("--json", "print as JSON on stdout")
    .action(
      act((job: string | undefined, _o: unknown, cmd: Command) =>
        listCommand(job, globalsOf<DebtFlags>(cmd)),
      ),
    );
  debts
    .command("pay")
    .description("run the owed steps now (the same as `retry --debts`); exit 3 while some remain")
    .argument("[job]")
    .option("--json", "print the outcome as JSON on stdout")
    .action(
      act((job: string | undefined, _o: unknown, cmd: Command) => {
        const o = globalsOf<DebtFlags>(cmd);
        return withServices({ ...o, jobs: [job] }, ({ sync }) => payDebts(sync, job, o.json ?? false));
      }),
    );
}

async function listCommand(job: string | undefined, o: DebtFlags): Promise<number> {
  const limit = positiveInt("--limit", o.limit, 100);
  return withServices({ ...o, jobs: [job] }, async ({ sync }) => {
    const rows = await sync.debts(job, limit);
    if (o.json) printJson(rows);
    else if (rows.length === 0) process.stdout.write("no debts\n");
    else
      for (const d of rows)
        process.stdout.write(
          `${d.job}/${d.phase}\t${d.key}\tstep ${d.step}${d.provider ? ` (${d.provider})` : ""}\tattempts=${d.attempts}\t${d.reason ?? ""}\n`,
        );
    return EXIT.ok;
  });
}

/** Pays every job's (or one job's) debts; exit 3 while some remain. */
export async function payDebts(sync: SyncService, job: string | undefined, json: boolean): Promise<number> {
  if (job !== undefined) sync.job(job);
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
