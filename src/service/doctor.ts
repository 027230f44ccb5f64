import type { LoadedConfig } from "../config/load-config.js";
import {
  exitCodeFor,
  fileRepairs,
  runChecks,
  type DoctorOptions,
  type DoctorReport,
} from "../health/doctor.js";
import type { MaintenanceStore } from "../ledger/maintenance-store.js";
import { openMaintenance } from "../ledger/open-ledger.js";
import { openServices } from "./open-services.js";

export type { DoctorOptions, DoctorReport } from "../health/doctor.js";
export type { CheckResult, RepairResult } from "../health/types.js";

/**
 * `syncwarden doctor`: the repairs that need no open ledger first (restore a damaged one from a
 * verified snapshot, prune), then, on a sound ledger, the repairs and checks through the services.
 * A damaged or missing ledger is diagnosed without being opened for writing.
 */
export async function runDoctor(loaded: LoadedConfig, options: DoctorOptions = {}): Promise<DoctorReport> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const thorough = options.thorough ?? false;
  const maintenance = openMaintenance(loaded);
  try {
    return await doctorOn(loaded, maintenance, options, env, now, thorough);
  } finally {
    await maintenance.close?.();
  }
}

async function doctorOn(
  loaded: LoadedConfig,
  maintenance: MaintenanceStore,
  options: DoctorOptions,
  env: NodeJS.ProcessEnv,
  now: () => number,
  thorough: boolean,
): Promise<DoctorReport> {
  const pre = options.repair
    ? await fileRepairs(loaded, maintenance, { thorough, restore: options.restore ?? true, env, now })
    : { repairs: [], sound: !maintenance.exists() || (await maintenance.integrity(thorough)).length === 0 };
  if (!maintenance.exists() || !pre.sound) {
    const checks = await runChecks(loaded, maintenance, undefined, { thorough, env, now: now() });
    return { checks, repairs: pre.repairs, exitCode: exitCodeFor(checks) };
  }
  const services = openServices(loaded);
  try {
    return await services.health.run(options, pre.repairs);
  } finally {
    await services.close();
  }
}
