import type { LoadedConfig } from "../config/load-config.js";
import { errorMessage } from "../errors.js";
import type { EventBus } from "../events.js";
import {
  exitCodeFor,
  fileRepairs,
  ledgerRepairs,
  repair,
  runChecks,
  type DoctorActions,
  type DoctorOptions,
  type DoctorReport,
} from "../health/doctor.js";
import type { OverdueJob, OverdueTarget } from "../health/overdue.js";
import type { RepairResult } from "../health/types.js";
import { replicaLockName } from "../ledger/meta-keys.js";
import type { Ledger } from "../ledger/ledger.js";
import type { ReplicaService } from "./replica-service.js";
import type { SyncService } from "./sync-service.js";

/** doctor over an open ledger: the checks, and the repairs that start work go through the services. */
export class HealthService {
  constructor(
    private readonly loaded: LoadedConfig,
    private readonly ledger: Ledger,
    private readonly events: EventBus,
    private readonly sync: SyncService,
    private readonly replicas: ReplicaService,
  ) {}

  /**
   * Repairs (when asked), then the checks. `earlier`: the file repairs already made before the ledger
   * was opened; without them they are made here, without a restore (this process holds the ledger open).
   */
  async run(options: DoctorOptions = {}, earlier?: RepairResult[]): Promise<DoctorReport> {
    const env = options.env ?? process.env;
    const now = options.now ?? Date.now;
    const repairs = [...(earlier ?? [])];
    if (options.repair) {
      if (!earlier) {
        const files = await fileRepairs(this.loaded, this.ledger.maintenance, {
          thorough: options.thorough ?? false,
          restore: false,
          env,
          now,
        });
        repairs.push(...files.repairs);
      }
      repairs.push(
        ...(await ledgerRepairs(this.loaded, this.ledger, {
          now,
          ...(options.startSyncs === false ? {} : { actions: this.actions(options.signal) }),
          ...(options.signal ? { signal: options.signal } : {}),
        })),
      );
      for (const r of repairs) {
        const job = typeof r.details.job === "string" ? r.details.job : undefined;
        this.events.emit("health:repair", {
          name: r.name,
          ok: r.ok,
          message: r.message,
          ...(job ? { job } : {}),
        });
      }
    }
    const checks = await runChecks(this.loaded, this.ledger.maintenance, this.ledger, {
      thorough: options.thorough ?? false,
      env,
      now: now(),
    });
    for (const c of checks)
      this.events.emit("health:check", { name: c.name, status: c.status, message: c.message });
    return { checks, repairs, exitCode: exitCodeFor(checks) };
  }

  private actions(signal?: AbortSignal): DoctorActions {
    return {
      startSync: async (job: OverdueJob) => {
        const result = await this.sync
          .execute({ job: job.job, options: { wait: false }, trigger: "api", ...(signal ? { signal } : {}) })
          .catch((e: unknown) => {
            throw new Error(`could not start a sync of overdue job ${job.job}: ${errorMessage(e)}`);
          });
        return repair(
          "start-sync",
          result.status === "completed",
          `started a sync of overdue job ${job.job} (last success ${job.lastSuccess ?? "never"}): ${result.status} in ${result.durationSeconds}s`,
          { job: job.job, runId: result.runId, status: result.status },
        );
      },
      startReplication: async (t: OverdueTarget) => {
        const { targets } = await this.replicas.replicate({
          replica: t.replica,
          target: t.target,
          scheduled: true,
          ...(signal ? { signal } : {}),
        });
        const r = targets[0];
        const outcome = !r
          ? "the target is no longer configured"
          : r.status === "ok"
            ? `ok, ${r.copied} copied, ${r.deleted} deleted, ${r.conflicts.length} conflicts, ${r.errors.length} errors`
            : `${r.status}${r.message === undefined ? "" : ` (${r.message})`}`;
        return repair(
          "start-replication",
          r?.status === "ok",
          `replicated overdue target ${replicaLockName(t)} (last success ${t.lastSuccess ?? "never"}): ${outcome}`,
          {
            replica: t.replica,
            target: t.target,
            status: r?.status ?? "error",
            copied: r?.copied ?? 0,
            deleted: r?.deleted ?? 0,
          },
        );
      },
    };
  }
}
