import { UsageError } from "../../errors.js";
import type { SyncResult } from "../../service/types.js";
import { printJson, withService, type GlobalOptions } from "../context.js";
import { exitCodeForResults, EXIT } from "../exit-codes.js";
import { createRenderer } from "../progress-renderer.js";

export interface RunOptions extends GlobalOptions {
  force?: boolean;
  json?: boolean;
  verbose?: boolean;
  phase?: string[];
  incrementalOnly?: boolean;
}

/** `syncwarden run [JOB...]`: every job (or those named) in order; SIGINT/SIGTERM stop cleanly with 130. */
export async function runCommand(jobs: string[], opts: RunOptions): Promise<number> {
  return withService(opts, async (service) => {
    const names = jobs.length > 0 ? jobs : service.jobNames();
    for (const name of names) {
      if (!service.jobNames().includes(name)) {
        throw new UsageError(
          `unknown job "${name}"; ${service.loaded.file} defines: ${service.jobNames().join(", ")}`,
        );
      }
    }
    const controller = new AbortController();
    const stop = (sig: NodeJS.Signals): void => {
      if (controller.signal.aborted) process.exit(EXIT.interrupted);
      process.stderr.write(
        `\n${sig}: stopping: in-flight items finish, the rest stay pending (again to quit now)\n`,
      );
      controller.abort();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    const off = service.on(createRenderer(process.stderr, opts.verbose ?? false));
    const results: SyncResult[] = [];
    try {
      for (const job of names) {
        if (controller.signal.aborted) break;
        results.push(
          await service.execute({
            job,
            trigger: "cli",
            signal: controller.signal,
            ...(opts.phase && opts.phase.length > 0 ? { phases: opts.phase } : {}),
            options: { force: opts.force ?? false, incrementalOnly: opts.incrementalOnly ?? false },
          }),
        );
      }
    } finally {
      off();
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
    if (opts.json) printJson(results.length === 1 ? results[0] : results);
    return controller.signal.aborted ? EXIT.interrupted : exitCodeForResults(results);
  });
}
