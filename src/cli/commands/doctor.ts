import type { Command } from "commander";
import type { CheckResult, RepairResult } from "../../service/doctor.js";
import { act, globalsOf, loadGlobalConfig, printJson, type GlobalOptions } from "../context.js";
import { commandHelpText } from "../help-text.js";

interface DoctorFlags extends GlobalOptions {
  repair?: boolean;
  thorough?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command("doctor")
    .description(
      "health checks of the state: disk, database integrity and size, schedules, breakers, locks, leases, backlog, failed runs, backups (exit 0 ok, 1 warnings, 2 critical)",
    )
    .option(
      "--repair",
      "apply the safe repairs first (restore a damaged database from a snapshot, prune, requeue, vacuum, sync overdue jobs)",
    )
    .option("--thorough", "PRAGMA integrity_check instead of quick_check")
    .option("--json", "print { checks, repairs } as JSON on stdout")
    .addHelpText("after", commandHelpText("doctor"))
    .action(act((_o: unknown, cmd: Command) => doctorCommand(globalsOf<DoctorFlags>(cmd))));
}

const LABEL = { ok: "ok      ", warning: "WARNING ", critical: "CRITICAL" } as const;
const renderCheck = (c: CheckResult): string => `${LABEL[c.status]} ${c.name}: ${c.message}`;
const renderRepair = (r: RepairResult): string => `${r.ok ? "repaired" : "FAILED  "} ${r.name}: ${r.message}`;

/**
 * `syncwarden doctor [--repair] [--thorough] [--json]`: health checks of the state folder (and with
 * --repair, the safe repairs first). Exit 0 healthy, 1 warnings, 2 critical, judged after repairs.
 */
async function doctorCommand(opts: DoctorFlags): Promise<number> {
  const loaded = loadGlobalConfig(opts);
  const { runDoctor } = await import("../../service/doctor.js");
  const report = await runDoctor(loaded, {
    repair: opts.repair ?? false,
    thorough: opts.thorough ?? false,
  });
  if (opts.json) printJson({ checks: report.checks, repairs: report.repairs });
  else
    process.stdout.write(
      [...report.repairs.map(renderRepair), ...report.checks.map(renderCheck)].join("\n") + "\n",
    );
  return report.exitCode;
}
