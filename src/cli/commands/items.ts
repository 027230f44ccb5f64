import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { itemView } from "../../service/item-view.js";
import type { ItemStatus } from "../../service/sync-service.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { positiveInt } from "../flags.js";

interface ItemsFlags extends GlobalOptions {
  status?: string;
  limit?: string;
  json?: boolean;
}

/** The values `--status` takes, in lifecycle order. */
const STATUSES = ["pending", "processing", "completed", "skipped", "failed", "dead"] as const;

export function register(program: Command): void {
  program
    .command("items")
    .description("a job's items by status: pending, processing, completed, skipped, failed, dead")
    .argument("<job>")
    .option("--status <s>", `only items in these states, comma-separated: ${STATUSES.join(", ")}`)
    .option("--limit <n>", "at most n items", "100")
    .option("--json", "print as JSON on stdout")
    .action(act((job: string, _o: unknown, cmd: Command) => itemsCommand(job, globalsOf<ItemsFlags>(cmd))));
}

/** `--status failed,dead` → ["FAILED", "DEAD"]; undefined (every status) without the flag. */
export function parseStatuses(value: string | undefined): ItemStatus[] | undefined {
  if (value === undefined) return undefined;
  const words = value.split(",").map((s) => s.trim().toLowerCase());
  const bad = words.filter((w) => !(STATUSES as readonly string[]).includes(w));
  if (bad.length > 0)
    throw new UsageError(
      `--status ${JSON.stringify(value)} is not valid (${bad.map((b) => JSON.stringify(b)).join(", ")}); valid values: ${STATUSES.join(", ")} (comma-separated for several)`,
    );
  return [...new Set(words)].map((w) => w.toUpperCase() as ItemStatus);
}

/** `syncwarden items JOB [--status S] [--limit N]`: the job's items, oldest recorded first. */
async function itemsCommand(job: string, opts: ItemsFlags): Promise<number> {
  const statuses = parseStatuses(opts.status);
  const limit = positiveInt("--limit", opts.limit, 100);
  return withServices(opts, async ({ sync }) => {
    const rows = await sync.items(job, { ...(statuses ? { statuses } : {}), limit });
    if (opts.json) printJson(rows.map(itemView));
    else if (rows.length === 0) {
      const which = statuses ? `${statuses.join(" or ").toLowerCase()} ` : "";
      process.stdout.write(`no ${which}items of ${job}\n`);
    } else
      for (const r of rows)
        process.stdout.write(
          `${r.status}\t${r.phase}\t${r.key}\tattempts=${r.attempts}\t${[r.reason, r.errorMessage].filter(Boolean).join(": ")}\n`,
        );
    return 0;
  });
}
