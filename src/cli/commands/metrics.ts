import type { Command } from "commander";
import { act, globalsOf, withServices, type GlobalOptions } from "../context.js";

export function register(program: Command): void {
  program
    .command("metrics")
    .description("print the Prometheus metrics once (what the daemon serves at /metrics)")
    .action(act((_o: unknown, cmd: Command) => metricsCommand(globalsOf(cmd))));
}

/**
 * `syncwarden metrics`: the text exposition on stdout. The ledger's gauges (items, queues, breakers,
 * gates, debts, last success, size) show every process's work; the counters only this one's (none).
 */
async function metricsCommand(opts: GlobalOptions): Promise<number> {
  return withServices({ ...opts, withMetrics: true }, async ({ metrics }) => {
    if (!metrics) throw new Error("the services were opened without metrics");
    process.stdout.write((await metrics.render()).body);
    return 0;
  });
}
