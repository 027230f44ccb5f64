import type { Command } from "commander";
import { healthSettings } from "../../config/health.js";
import { MAX_TIMER_SECONDS } from "../../config/durations.js";
import { describeSchedule, parseReplicaSchedules, parseSchedules } from "../../config/schedule.js";
import type { Daemon } from "../../daemon/daemon.js";
import type { DaemonLogger } from "../../daemon/log.js";
import { ConfigError, errorMessage, UsageError } from "../../errors.js";
import type { HeldLock } from "../../service/job-lock.js";
import type { Services } from "../../service/open-services.js";
import { act, globalsOf, loadGlobalConfig } from "../context.js";
import { EXIT, exitCodeForError, exitCodeForResults } from "../exit-codes.js";
import { commandHelpText } from "../help-text.js";
import { parsePort } from "./serve.js";

export function register(program: Command): void {
  program
    .command("daemon")
    .description("run jobs on their schedule (every: 10m, or cron), one daemon per state folder")
    .addHelpText("after", commandHelpText("daemon"))
    .option("--once", "run every due job once, then exit")
    .option("--log-format <format>", "pretty (one readable line per event) or json (pino lines)", "pretty")
    .option("--grace <seconds>", "on SIGTERM/SIGINT, how long in-flight items may finish", "30")
    .option(
      "--metrics-port <port>",
      "serve Prometheus metrics at http://127.0.0.1:PORT/metrics (0: any free port)",
    )
    .option("--web-port <port>", "also serve the status page on 127.0.0.1:PORT (token required)")
    .option("--web-host <address>", "with --web-port: the address to bind instead of loopback")
    .action(act((_o: unknown, cmd: Command) => daemonCommand(globalsOf<DaemonCommandOptions>(cmd))));
}

export interface DaemonCommandOptions {
  config?: string;
  /** Run the jobs that are due once, then exit. */
  once?: boolean;
  /** pretty (default) or json. */
  logFormat?: string;
  /** Seconds to let in-flight work finish after SIGTERM/SIGINT (default 30). */
  grace?: string;
  /** Serve /metrics on this port (overrides `metrics.port`). */
  metricsPort?: string;
  /** Serve the status page on this port (with the daemon's live progress). */
  webPort?: string;
  webHost?: string;
}

export const DEFAULT_GRACE_SECONDS = 30;

function parseGrace(value: string | undefined): number {
  if (value === undefined) return DEFAULT_GRACE_SECONDS;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0 || n > MAX_TIMER_SECONDS)
    throw new UsageError(
      `--grace must be a number of seconds from 0 to ${MAX_TIMER_SECONDS}, got "${value}"`,
    );
  return n;
}

/**
 * `syncwarden daemon [--once] [--log-format pretty|json] [--grace S]`: runs scheduled jobs when due, one
 * daemon per state folder (a second exits 75). The first SIGTERM/SIGINT stops claiming items, lets
 * in-flight ones finish within the grace period and exits 0; a second signal (or an expired grace) exits 130.
 * Logs go to stderr through pino; nothing is printed on stdout.
 */
async function daemonCommand(opts: DaemonCommandOptions): Promise<number> {
  // the daemon, its logger (pino) and the services load when the command runs
  const [
    { Daemon },
    { createDaemonLogger, parseLogFormat },
    { openServices },
    { replicaLockName },
    { startMetricsServer, metricsToken },
  ] = await Promise.all([
    import("../../daemon/daemon.js"),
    import("../../daemon/log.js"),
    import("../../service/open-services.js"),
    import("../../service/replica-service.js"),
    import("../../daemon/metrics-server.js"),
  ]);
  const logger = createDaemonLogger(parseLogFormat(opts.logFormat));
  let services: Services | undefined;
  let lock: HeldLock | undefined;
  let metricsServer: { close(): Promise<void> } | undefined;
  let web: { close(): Promise<void> } | undefined;
  try {
    const graceMs = parseGrace(opts.grace) * 1000;
    const webPort = opts.webPort === undefined ? undefined : parsePort("--web-port", opts.webPort);
    const loaded = loadGlobalConfig(opts);
    const schedules = parseSchedules(loaded.config.jobs, loaded.file);
    const targets = parseReplicaSchedules(
      loaded.config.replicas,
      loaded.file,
      healthSettings(loaded.config, loaded.file).replicaEveryMs,
    );
    if (schedules.size === 0 && targets.length === 0)
      throw new ConfigError(
        `${loaded.file}: no job or replica target has a schedule; add jobs.<job>.schedule: { every: 10m } (or cron: "0 * * * *")`,
      );
    const replicas = targets.map((t) => [replicaLockName(t), describeSchedule(t.schedule)] as const);
    const metricsPort =
      opts.metricsPort === undefined
        ? loaded.config.metrics?.port
        : parsePort("--metrics-port", opts.metricsPort);
    services = openServices(loaded, { metrics: metricsPort !== undefined || webPort !== undefined });
    lock = await services.sync.lockDaemon();
    if (metricsPort !== undefined && services.metrics) {
      const token = metricsToken(process.env);
      const served = await startMetricsServer(services.metrics, {
        port: metricsPort,
        host: loaded.config.metrics?.host ?? "127.0.0.1",
        ...(token === undefined ? {} : { token }),
      });
      metricsServer = served;
      logger.info(
        { event: "metrics:listen", url: served.url, port: served.port },
        `metrics at ${served.url}${token === undefined ? "" : " (bearer token required)"}`,
      );
    }
    // the daemon's log subscribes to the event map for what the scheduler does not report itself
    services.events.on((e) => {
      if (e.type === "breaker:transition")
        logger.warn({ event: "breaker", ...e }, `[CIRCUIT] ${e.provider}: ${e.from} → ${e.to} (${e.reason})`);
    });
    const daemon = new Daemon(services, { logger });
    if (webPort !== undefined) {
      const [{ startWebServer }, { metricsMount }] = await Promise.all([
        import("../../web/web-server.js"),
        import("../../service/metrics-handler.js"),
      ]);
      web = await startWebServer(services, {
        port: webPort,
        host: opts.webHost?.trim() || "127.0.0.1",
        log: (line) => logger.info({ event: "web" }, line),
        nextRun: async (job) => {
          if (!daemon.schedules.has(job)) return null;
          const { at } = await daemon.nextRun(job);
          return Number.isFinite(at) ? at : null;
        },
        ...(services.metrics ? { mounts: { "/metrics": metricsMount(services.metrics) } } : {}),
      });
    }
    logger.info(
      {
        event: "daemon:start",
        mode: opts.once ? "once" : "loop",
        stateDir: loaded.stateDir,
        jobs: Object.fromEntries([...schedules].map(([j, s]) => [j, describeSchedule(s)])),
        replicas: Object.fromEntries(replicas),
      },
      `daemon started (pid ${process.pid}, ${opts.once ? "one pass" : "loop"}) on ${loaded.stateDir}: ` +
        [
          ...[...schedules].map(([j, s]) => `${j} ${describeSchedule(s)}`),
          ...replicas.map((r) => r.join(" ")),
        ].join(", "),
    );
    for (const job of daemon.unscheduled())
      logger.info({ event: "job:unscheduled", job }, `${job}: no schedule; the daemon leaves it alone`);
    return await supervise(daemon, logger, lock, graceMs, opts.once ?? false);
  } catch (e) {
    logger.error({ event: "error", err: { message: errorMessage(e) } }, `daemon: ${errorMessage(e)}`);
    return exitCodeForError(e);
  } finally {
    await metricsServer?.close().catch(() => undefined);
    await web?.close().catch(() => undefined);
    await lock?.release().catch(() => undefined);
    await services?.close().catch(() => undefined);
  }
}

/** Runs the loop (or one pass) under signal handling and the grace period; returns the exit code. */
async function supervise(
  daemon: Daemon,
  logger: DaemonLogger,
  lock: HeldLock,
  graceMs: number,
  once: boolean,
): Promise<number> {
  const controller = new AbortController();
  let graceTimer: NodeJS.Timeout | undefined;
  const forceExit = (why: string): void => {
    logger.error(
      { event: "daemon:forced", reason: why },
      `${why}: exiting now; leased items are recovered later`,
    );
    void lock.release().finally(() => process.exit(EXIT.interrupted));
  };
  const stop = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) return forceExit(`second ${sig}`);
    logger.info(
      { event: "daemon:stopping", signal: sig, graceSeconds: graceMs / 1000 },
      `${sig}: shutting down: no new items are claimed, in-flight ones finish (up to ${graceMs / 1000}s; again to quit now)`,
    );
    controller.abort();
    graceTimer = setTimeout(() => forceExit(`grace period of ${graceMs / 1000}s expired`), graceMs);
    graceTimer.unref();
  };
  // a lease lost to someone else (e.g. after the machine slept past its expiry) ends this daemon
  const lease = { lost: false };
  const watch = setInterval(() => {
    if (!lock.lost() || controller.signal.aborted) return;
    lease.lost = true;
    logger.error(
      { event: "daemon:lock-lost" },
      "the daemon lock was taken over by another process; stopping",
    );
    controller.abort();
  }, 5000);
  watch.unref();
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const started = Date.now();
  try {
    let code: number = EXIT.ok;
    if (once) {
      const outcomes = await daemon.runOnce(controller.signal);
      const results = outcomes.flatMap((o) => ("job" in o && o.action === "ran" ? [o.result] : []));
      const errors = outcomes.some((o) => o.action === "error");
      code = controller.signal.aborted ? EXIT.ok : errors ? EXIT.internal : exitCodeForResults(results);
      // a replica target that ran but did not end ok makes the pass partial
      if (code === EXIT.ok && outcomes.some((o) => "report" in o && o.report.status !== "ok"))
        code = EXIT.partial;
    } else {
      await daemon.start(controller.signal);
    }
    if (lease.lost) code = EXIT.locked;
    logger.info(
      { event: "daemon:stop", exitCode: code, uptimeSeconds: Math.round((Date.now() - started) / 1000) },
      `daemon stopped (exit ${code})`,
    );
    return code;
  } finally {
    clearTimeout(graceTimer);
    clearInterval(watch);
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}
