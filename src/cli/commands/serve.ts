import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { act, globalsOf, loadGlobalConfig, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { commandHelpText } from "../help-text.js";

export function register(program: Command): void {
  program
    .command("serve")
    .description("the status page: jobs, live progress, failed and dead items, breakers, replicas, doctor")
    .addHelpText("after", commandHelpText("serve"))
    .option("--port <port>", "port to listen on (0 picks a free one)", "8127")
    .option("--host <address>", "address to bind (loopback unless given)", "127.0.0.1")
    .action(act((_o: unknown, cmd: Command) => serveCommand(globalsOf<ServeOptions>(cmd))));
}

interface ServeOptions extends GlobalOptions {
  port?: string;
  host?: string;
}

/** A port flag's value as a number, or a UsageError naming the flag. */
export function parsePort(flag: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535)
    throw new UsageError(`${flag} needs a port number (0–65535), got "${value}"`);
  return port;
}

/**
 * `syncwarden serve [--port P] [--host H]`: the status page over the configuration's services until
 * SIGINT/SIGTERM. Shows runs made by any process (from the ledger) and live progress of runs in this one.
 */
async function serveCommand(opts: ServeOptions): Promise<number> {
  const port = parsePort("--port", opts.port ?? "8127");
  const host = opts.host?.trim() || "127.0.0.1";
  const loaded = loadGlobalConfig(opts);
  const [{ openServices }, { startWebServer }, { metricsMount }] = await Promise.all([
    import("../../service/open-services.js"),
    import("../../web/web-server.js"),
    import("../../service/metrics-handler.js"),
  ]);
  const services = openServices(loaded, { metrics: true });
  try {
    const web = await startWebServer(services, {
      port,
      host,
      // the Prometheus metrics, behind the page's token
      ...(services.metrics ? { mounts: { "/metrics": metricsMount(services.metrics) } } : {}),
    });
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    process.stderr.write(`syncwarden serve: stopping (${signal})\n`);
    // a second signal while closing quits at once
    const quit = (): never => process.exit(EXIT.interrupted);
    process.once("SIGINT", quit).once("SIGTERM", quit);
    await web.close();
  } finally {
    await services.close();
  }
  return 0;
}
