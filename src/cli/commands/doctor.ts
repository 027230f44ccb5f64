import { loadConfig, resolveConfigFile } from "../../config/load-config.js";
import { runDoctor } from "../../health/doctor.js";
import type { CheckResult, RepairResult } from "../../health/types.js";
import { printJson, type GlobalOptions } from "../context.js";

const LABEL = { ok: "ok      ", warning: "WARNING ", critical: "CRITICAL" } as const;

const renderCheck = (c: CheckResult): string => `${LABEL[c.status]} ${c.name}: ${c.message}`;
const renderRepair = (r: RepairResult): string => `${r.ok ? "repaired" : "FAILED  "} ${r.name}: ${r.message}`;

/**
 * `syncwarden doctor [--repair] [--thorough] [--json]`: health checks of the state folder (and with
 * --repair, the safe repairs first). Exit 0 healthy, 1 warnings, 2 critical, judged after repairs.
 * The database is opened by doctor itself (read-only) before any service, so a damaged file is
 * diagnosed instead of failing in migrations.
 */
export async function doctorCommand(
  opts: GlobalOptions & { repair?: boolean; thorough?: boolean; json?: boolean },
): Promise<number> {
  const loaded = loadConfig(resolveConfigFile(opts.config));
  const report = await runDoctor(loaded, { repair: opts.repair ?? false, thorough: opts.thorough ?? false });
  if (opts.json) printJson({ checks: report.checks, repairs: report.repairs });
  else
    process.stdout.write(
      [...report.repairs.map(renderRepair), ...report.checks.map(renderCheck)].join("\n") + "\n",
    );
  return report.exitCode;
}
