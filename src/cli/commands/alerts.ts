import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";

export function register(program: Command): void {
  const alerts = program
    .command("alerts")
    .description("webhooks told when something needs a person (alerts:)");
  alerts
    .command("test")
    .description("send a test alert to every webhook (or one) and show what each answered")
    .option("--webhook <name>", "only this webhook")
    .option("--json", "print as JSON on stdout")
    .action(act((_o: unknown, cmd: Command) => testCommand(globalsOf(cmd))));
}

/** `syncwarden alerts test [--webhook NAME] [--json]`: exit 0 when every webhook took it, 3 when one did not. */
async function testCommand(opts: GlobalOptions & { webhook?: string; json?: boolean }): Promise<number> {
  return withServices(opts, async ({ alerts }) => {
    const names = alerts.webhooks.map((w) => w.name);
    if (names.length === 0)
      throw new UsageError("no webhooks are configured: add alerts.webhooks to the configuration");
    if (opts.webhook !== undefined && !names.includes(opts.webhook))
      throw new UsageError(`--webhook: no webhook named "${opts.webhook}"; webhooks: ${names.join(", ")}`);
    const answers = await alerts.test(opts.webhook);
    if (opts.json) printJson(answers);
    else
      process.stdout.write(
        answers
          .map((a) => `${a.webhook}: ${a.ok ? "delivered" : "NOT delivered"} (${a.message})`)
          .join("\n") + "\n",
      );
    return answers.every((a) => a.ok) ? EXIT.ok : EXIT.partial;
  });
}
