import type { Command } from "commander";
import type { SyncResult } from "../../service/types.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { degradationLabel } from "../degradation-label.js";
import { positiveInt } from "../flags.js";

interface HistoryFlags extends GlobalOptions {
  limit?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("history")
    .description("past runs with their results, newest first")
    .argument("[job]")
    .option("--limit <n>", "at most n runs", "20")
    .option("--json", "print as JSON on stdout")
    .action(
      act((job: string | undefined, _o: unknown, cmd: Command) =>
        historyCommand(job, globalsOf<HistoryFlags>(cmd)),
      ),
    );
}

/** `syncwarden history [JOB]`: runs with their results, newest first. */
async function historyCommand(job: string | undefined, opts: HistoryFlags): Promise<number> {
  const limit = positiveInt("--limit", opts.limit, 20);
  return withServices({ ...opts, jobs: [job] }, async ({ sync }) => {
    const runs = await sync.history(job, limit);
    if (opts.json) {
      printJson(
        runs.map((r) => ({
          runId: r.id,
          job: r.job,
          trigger: r.trigger,
          status: r.status ?? "running",
          startedAt: new Date(r.startedAt).toISOString(),
          finishedAt: r.finishedAt === null ? null : new Date(r.finishedAt).toISOString(),
          result: r.result,
        })),
      );
      return 0;
    }
    for (const r of runs) {
      const res = r.result as SyncResult | null;
      const counts = res ? res.phases.map((p) => `${p.name} ${p.completed}/${p.total}`).join(", ") : "";
      const degradation = res ? degradationLabel(res) : undefined;
      process.stdout.write(
        `${new Date(r.startedAt).toISOString()} ${r.job} ${r.trigger} ${r.status ?? "running"}${res ? ` ${res.durationSeconds}s` : ""}${degradation ? ` ${degradation}` : ""}${counts ? ` (${counts})` : ""}\n`,
      );
    }
    return 0;
  });
}
