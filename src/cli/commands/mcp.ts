import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { act, globalsOf, loadGlobalConfig, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { commandHelpText } from "../help-text.js";

export function register(program: Command): void {
  program
    .command("mcp")
    .description("MCP server (stdio; --http PORT for Streamable HTTP on 127.0.0.1 with a bearer token)")
    .addHelpText("after", commandHelpText("mcp"))
    .option("--http <port>", "serve Streamable HTTP on 127.0.0.1:PORT instead of stdio")
    .action(act((_o: unknown, cmd: Command) => mcpCommand(globalsOf<{ http?: string }>(cmd))));
}

const log = (line: string): void => void process.stderr.write(`syncwarden mcp: ${line}\n`);

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || port > 65535)
    throw new UsageError(`--http needs a port number (0–65535), got "${value}"`);
  return port;
}

/** Resolves on SIGINT/SIGTERM (and, over stdio, when stdin closes); a second signal exits at once. */
function untilStopped(stdin: boolean): { stopped: Promise<string>; dispose: () => void } {
  let stop!: (why: string) => void;
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  let signalled = false;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signalled) process.exit(EXIT.interrupted);
    signalled = true;
    stop(sig);
  };
  const onEnd = (): void => stop("stdin closed");
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  if (stdin) process.stdin.on("end", onEnd).on("close", onEnd);
  return {
    stopped,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      if (stdin) process.stdin.off("end", onEnd).off("close", onEnd);
    },
  };
}

/**
 * `syncwarden mcp [--http PORT]`: an MCP server over the configuration's SyncService, on stdio (stdout
 * carries only the protocol; logs go to stderr) or on Streamable HTTP at 127.0.0.1:PORT/mcp. Runs until
 * stdin closes (stdio) or SIGINT/SIGTERM; runs in flight are cancelled (resumable) before the service closes.
 */
async function mcpCommand(opts: GlobalOptions & { http?: string }): Promise<number> {
  const port = opts.http === undefined ? undefined : parsePort(opts.http);
  const loaded = loadGlobalConfig(opts);
  const { openServices } = await import("../../service/open-services.js");
  const services = openServices(loaded);
  const service = services.sync;
  const shutdown = new AbortController();
  const inflight = new Set<Promise<unknown>>();
  // the MCP SDK is large: loaded by this command only
  const [{ StdioServerTransport }, { startMcpHttp }, { createMcpServer }] = await Promise.all([
    import("@modelcontextprotocol/sdk/server/stdio.js"),
    import("../../mcp/http.js"),
    import("../../mcp/server.js"),
  ]);
  const logging = services.events.on((e) => {
    if (e.type === "run:start") log(`${e.job}: run ${e.runId} started (${e.trigger})`);
    else if (e.type === "run:end") log(`${e.result.job}: ${e.result.status} in ${e.result.durationSeconds}s`);
    else if (e.type === "lock:wait") log(e.message);
  });
  const stop = untilStopped(port === undefined);
  // a connector that prints with console.log must not corrupt the stdio protocol
  const consoleLog = console.log;
  try {
    let close: () => Promise<void>;
    if (port === undefined) {
      console.log = console.error;
      const server = createMcpServer(services, { shutdown: shutdown.signal, inflight });
      await server.connect(new StdioServerTransport());
      log(`serving ${service.loaded.file} over stdio`);
      close = () => server.close();
    } else {
      const http = await startMcpHttp(services, { port, shutdown: shutdown.signal, inflight });
      log(`serving ${service.loaded.file}`);
      close = () => http.close();
    }
    log(`stopping: ${await stop.stopped}`);
    shutdown.abort();
    await Promise.allSettled([...inflight]);
    await close();
  } finally {
    console.log = consoleLog;
    stop.dispose();
    logging.dispose();
    await services.close();
  }
  log("stopped");
  return 0;
}
