import type { Command } from "commander";
import type { ItemRow } from "../../service/sync-service.js";
import { itemView } from "../../service/item-view.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";

export function register(program: Command): void {
  program
    .command("failed")
    .description("list failed and dead items with their error class and message")
    .argument("[job]")
    .option("--json", "print as JSON on stdout")
    .action(act((job: string | undefined, _o: unknown, cmd: Command) => failedCommand(job, globalsOf(cmd))));
}

/** `syncwarden failed [JOB]`: FAILED and DEAD items with their error class and message. */
async function failedCommand(
  job: string | undefined,
  opts: GlobalOptions & { json?: boolean },
): Promise<number> {
  return withServices({ ...opts, jobs: [job] }, async ({ sync }) => {
    const rows: ItemRow[] = [];
    for await (const r of sync.failed(job)) rows.push(r);
    if (opts.json) printJson(rows.map(itemView));
    else if (rows.length === 0) process.stdout.write("no failed or dead items\n");
    else
      for (const r of rows)
        process.stdout.write(
          `${r.status}\t${r.job}/${r.phase}\t${r.key}\t${r.errorClass ?? "-"}\tattempts=${r.attempts}\t${r.errorMessage ?? ""}\n`,
        );
    return 0;
  });
}
