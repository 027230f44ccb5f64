import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { UsageError } from "../errors.js";
import * as S from "./schemas.js";
import { failure, ok, type McpServices } from "./tool-kit.js";

/** Every breaker: each provider's (with its rate-gate pause), then each replica target's. */
async function breakers({ sync, replicas }: McpServices) {
  const providers = (await sync.providerHealth()).map((h) => ({
    kind: "provider" as const,
    name: h.provider,
    breaker: h.breaker,
    gate: h.gate,
  }));
  const targets = (await replicas.status()).map((r) => ({
    kind: "target" as const,
    name: r.name,
    path: r.path,
    breaker: r.breaker,
    gate: null,
  }));
  return [...providers, ...targets];
}

const describe = (b: Awaited<ReturnType<typeof breakers>>[number]): string =>
  `${b.name}: ${b.breaker.isolated ? "isolated (open until reset)" : b.breaker.state === "open" ? `open until ${b.breaker.openUntil ?? "?"}` : b.breaker.state}` +
  (b.breaker.reason && b.breaker.state !== "closed" ? `; ${b.breaker.reason}` : "") +
  (b.gate ? `; paused until ${b.gate.pausedUntil ?? "?"} (${b.gate.reason ?? "rate limit"})` : "");

export function registerListBreakers(server: McpServer, services: McpServices): void {
  server.registerTool(
    "list_breakers",
    {
      description:
        "Every circuit breaker: each provider's (closed, open until T, half-open, isolated; with its rate-gate pause) and each replica target's (replica:<replica>:<target>).",
      inputSchema: {},
      outputSchema: S.listBreakersOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => {
      try {
        const all = await breakers(services);
        return ok(
          { breakers: all },
          all.map(describe).join("\n") || "no providers or replica targets configured",
        );
      } catch (e) {
        return failure(services.sync, undefined, e);
      }
    },
  );
}

/** Resets or isolates a provider's breaker or a replica target's, shared by every process on the state. */
function registerAction(server: McpServer, services: McpServices, action: "reset" | "isolate"): void {
  server.registerTool(
    `${action}_breaker`,
    {
      description:
        action === "reset"
          ? "Close a breaker now (a provider's, or a replica target's replica:<replica>:<target>); waiting runs resume."
          : "Hold a breaker open until reset_breaker (a maintenance window): calls to that provider or target stop.",
      inputSchema: S.breakerInput,
      outputSchema: S.breakerOutput,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    async (args) => {
      const { sync, replicas } = services;
      try {
        const providers = sync.providerNames();
        const targets = replicas.targetNames();
        if (providers.includes(args.name)) await sync.breaker(args.name, action);
        else if (targets.includes(args.name)) await replicas.breaker(args.name, action);
        else {
          const list = (names: string[]): string => names.join(", ") || "(none configured)";
          throw new UsageError(
            `unknown breaker "${args.name}"; providers: ${list(providers)}; replica targets: ${list(targets)}`,
          );
        }
        const now = (await breakers(services)).find((b) => b.name === args.name)!;
        return ok({ name: args.name, breaker: now.breaker }, describe(now));
      } catch (e) {
        return failure(sync, undefined, e);
      }
    },
  );
}

export function registerBreakerActions(server: McpServer, services: McpServices): void {
  registerAction(server, services, "reset");
  registerAction(server, services, "isolate");
}
