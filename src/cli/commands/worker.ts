import type { Command } from "commander";
import type { DaemonLogger } from "../../daemon/log.js";
import { errorMessage, UsageError } from "../../errors.js";
import type { Services } from "../../service/open-services.js";
import { act, globalsOf, loadGlobalConfig } from "../context.js";
import { EXIT, exitCodeForError } from "../exit-codes.js";
import { commandHelpText } from "../help-text.js";
import { DEFAULT_GRACE_SECONDS } from "./daemon.js";

export function register(program: Command): void {
  program
    .command("worker")
    .description(
      "work on the open plans of jobs beside other workers (one PostgreSQL ledger, many machines) until stopped",
    )
    .addHelpText("after", commandHelpText("worker"))
    .argument("[jobs...]", "jobs to serve (default: every job)")
    .option("--concurrency <n>", "items in flight from this process (default: sync.max_workers)")
    .option("--poll <seconds>", "how often an idle worker looks for work", "1")
    .option("--log-format <format>", "pretty (one readable line per event) or json (pino lines)", "pretty")
    .option("--grace <seconds>", "on SIGTERM/SIGINT, how long in-flight items may finish", "30")
    .action(
      act((jobs: string[], _o: unknown, cmd: Command) => workerCommand(jobs, globalsOf<WorkerOptions>(cmd))),
    );
}

interface WorkerOptions {
  config?: string;
  concurrency?: string;
  poll?: string;
  logFormat?: string;
  grace?: string;
}

function positive(
  flag: string,
  value: string | undefined,
  max: number,
  integer: boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0 || n > max || (integer && !Number.isInteger(n)))
    throw new UsageError(
      `${flag} must be ${integer ? "a whole number" : "a number"} above 0 and at most ${max}, got "${value}"`,
    );
  return n;
}

/**
 * `syncwarden worker [JOB...] [--concurrency N]`: joins open plans and plans due runs until stopped. The
 * first SIGTERM/SIGINT stops claiming, lets claimed items settle (within the grace) and exits 0; a
 * second signal, or an expired grace, exits 130 (leased items return to PENDING when their leases expire).
 */
async function workerCommand(jobs: string[], opts: WorkerOptions): Promise<number> {
  const [{ Worker }, { createDaemonLogger, parseLogFormat }, { openServices }] = await Promise.all([
    import("../../daemon/worker.js"),
    import("../../daemon/log.js"),
    import("../../service/open-services.js"),
  ]);
  const logger: DaemonLogger = createDaemonLogger(parseLogFormat(opts.logFormat));
  let services: Services | undefined;
  try {
    const loaded = loadGlobalConfig(opts);
    const concurrency =
      positive("--concurrency", opts.concurrency, 1024, true) ?? loaded.config.sync.max_workers;
    const pollMs = (positive("--poll", opts.poll, 3600, false) ?? 1) * 1000;
    const graceMs = (positive("--grace", opts.grace, 3600, false) ?? DEFAULT_GRACE_SECONDS) * 1000;
    services = openServices(loaded);
    const sync = services.sync;
    for (const j of jobs) sync.job(j);
    const serving = jobs.length > 0 ? jobs : sync.jobNames();
    const worker = new Worker(sync, { jobs: serving, concurrency, pollMs, logger });
    const controller = new AbortController();
    let graceTimer: NodeJS.Timeout | undefined;
    const stop = (sig: NodeJS.Signals): void => {
      if (controller.signal.aborted) {
        logger.error({ event: "worker:forced", signal: sig }, `second ${sig}: exiting now`);
        process.exit(EXIT.interrupted);
      }
      logger.info(
        { event: "worker:stopping", signal: sig },
        `${sig}: no new items are claimed; claimed ones settle (up to ${graceMs / 1000}s; again to quit now)`,
      );
      controller.abort();
      graceTimer = setTimeout(() => process.exit(EXIT.interrupted), graceMs);
      graceTimer.unref();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    logger.info(
      {
        event: "worker:start",
        owner: sync.owner,
        jobs: serving,
        concurrency,
        ledger: loaded.ledger ? "postgres" : "sqlite",
      },
      `worker ${sync.owner} started: ${serving.join(", ")} (${concurrency} in flight)`,
    );
    try {
      await worker.start(controller.signal);
    } finally {
      clearTimeout(graceTimer);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    logger.info({ event: "worker:stop" }, "worker stopped (exit 0)");
    return EXIT.ok;
  } catch (e) {
    logger.error({ event: "error", err: { message: errorMessage(e) } }, `worker: ${errorMessage(e)}`);
    return exitCodeForError(e);
  } finally {
    await services?.close().catch(() => undefined);
  }
}
