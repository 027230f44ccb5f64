import type { Command } from "commander";
import type { GithubLimit } from "../../service/github-limits.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";

export function register(program: Command): void {
  const github = program.command("github").description("GitHub sources: their tokens' rate limits");
  github
    .command("limits")
    .description(
      "each github source token's primary limit (GET /rate_limit, which costs none of it) and the gate every process shares for it",
    )
    .option("--json", "print as JSON on stdout")
    .action(act((o: { json?: boolean }, cmd: Command) => limitsCommand({ ...globalsOf(cmd), ...o })));
}

const n = (v: number | undefined): string => (v === undefined ? "?" : v.toLocaleString("en-US"));

export function renderLimit(l: GithubLimit): string {
  const head = `${l.provider} (${l.jobs.join(", ")})`;
  const gate = l.gate
    ? `gate closed until ${l.gate.pausedUntil}${l.gate.reason ? ` (${l.gate.reason})` : ""}`
    : "gate open";
  if (l.error) return `${head}: ${l.error.message}; ${gate}`;
  return `${head}: ${n(l.remaining)} of ${n(l.limit)} left, ${n(l.used)} used, resets ${l.reset ?? "?"}; ${gate}`;
}

async function limitsCommand(opts: GlobalOptions & { json?: boolean }): Promise<number> {
  return withServices(opts, async ({ sync }) => {
    const limits = await sync.githubLimits();
    if (opts.json) printJson(limits);
    else
      process.stdout.write(
        limits.length === 0 ? "no github sources configured\n" : limits.map(renderLimit).join("\n") + "\n",
      );
    if (limits.some((l) => l.error?.errorClass === "config")) return EXIT.config;
    return limits.some((l) => l.error) ? EXIT.internal : EXIT.ok;
  });
}
