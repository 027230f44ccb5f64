import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import type { ReplicaTargetStatus } from "../../service/replica-service.js";
import type { ProviderHealth } from "../../service/status.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";

export function register(program: Command): void {
  const breakers = program
    .command("breakers")
    .description(
      "circuit breakers and rate gates of every provider, and the breakers of replica targets (shared by all processes on this state)",
    )
    .option("--json", "print as JSON on stdout")
    .action(act((_o: unknown, cmd: Command) => breakersCommand(globalsOf(cmd))));
  breakers
    .command("reset")
    .description("close a provider's breaker (or a replica target's: replica:<replica>:<target>) now")
    .argument("<name>")
    .action(act((name: string, _o: unknown, cmd: Command) => breakerAction("reset", name, globalsOf(cmd))));
  breakers
    .command("isolate")
    .description("open a provider's breaker (or a replica target's) until it is reset by hand")
    .argument("<name>")
    .action(act((name: string, _o: unknown, cmd: Command) => breakerAction("isolate", name, globalsOf(cmd))));
}

export function renderHealth(h: ProviderHealth): string {
  const b = h.breaker;
  const state = b.isolated
    ? "open (isolated)"
    : b.state === "open"
      ? `open until ${b.openUntil ?? "?"}`
      : b.state;
  return `${h.provider}: breaker ${state}${b.failures > 0 && b.state === "closed" ? ` (${b.failures} consecutive failures)` : ""}${
    h.gate ? `; paused until ${h.gate.pausedUntil ?? "?"} (${h.gate.reason ?? "rate limit"})` : ""
  }${b.reason && b.state !== "closed" ? `; ${b.reason}` : ""}`;
}

/** `target replica:notes:drive → /mnt/usb/notes: breaker open until …` */
const renderTarget = (r: ReplicaTargetStatus): string =>
  `target ${renderHealth({ provider: `${r.name} → ${r.path}`, breaker: r.breaker, gate: null })}`;

/** --json: one array, providers as before, then replica targets; `provider` is the name reset/isolate take. */
const targetJson = (r: ReplicaTargetStatus) => ({
  kind: "target" as const,
  provider: r.name,
  replica: r.replica,
  target: r.target,
  path: r.path,
  breaker: r.breaker,
  gate: null,
});

async function breakersCommand(opts: GlobalOptions & { json?: boolean }): Promise<number> {
  return withServices(opts, async ({ sync, replicas }) => {
    const health = await sync.providerHealth();
    const targets = await replicas.status();
    const lines = [...health.map(renderHealth), ...targets.map(renderTarget)];
    if (opts.json)
      printJson([...health.map((h) => ({ kind: "provider" as const, ...h })), ...targets.map(targetJson)]);
    else
      process.stdout.write(
        lines.length === 0 ? "no providers or replica targets configured\n" : lines.join("\n") + "\n",
      );
    return 0;
  });
}

/** A provider's breaker, or a replica target's (`replica:<replica>:<target>`; no provider name holds a colon). */
async function breakerAction(
  action: "reset" | "isolate",
  name: string,
  opts: GlobalOptions,
): Promise<number> {
  return withServices(opts, async ({ sync, replicas }) => {
    const providers = sync.providerNames();
    const targets = replicas.targetNames();
    if (providers.includes(name)) await sync.breaker(name, action);
    else if (targets.includes(name)) await replicas.breaker(name, action);
    else {
      const list = (names: string[]): string => names.join(", ") || "(none configured)";
      throw new UsageError(
        `unknown breaker "${name}"; providers: ${list(providers)}; replica targets: ${list(targets)}`,
      );
    }
    process.stderr.write(
      `${name}: breaker ${action === "reset" ? "reset to closed" : "isolated (open until reset)"}\n`,
    );
    return 0;
  });
}
