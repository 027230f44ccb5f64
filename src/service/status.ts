import type { LoadedConfig } from "../config/load-config.js";
import { ledgerDocsTable } from "../config/schema.js";
import type { KnowledgeStats } from "../ledger/knowledge.js";
import type { Ledger } from "../ledger/ledger.js";
import type { BreakerRecord, GateRecord, StatusCounts } from "../ledger/types.js";
import { lastSuccessKey } from "../ledger/meta-keys.js";

export interface PhaseStatus {
  name: string;
  checkpoint: string | null;
  checkpointUpdatedAt: string | null;
  plan: { id: number; state: string; target: string | null } | null;
  items: StatusCounts | null;
  documents: number | null;
  /** Who works on the open plan now (processes holding leases on its items). */
  workers: WorkerStatus[];
}

/** A process working on a plan: from its leases (the owner id is host:pid:nonce). */
export interface WorkerStatus {
  host: string;
  pid: number;
  owner: string;
  /** Items it holds claimed (in flight or waiting in its batch). */
  inFlight: number;
  /** Its newest lease's renewal: the last heartbeat (ISO). */
  lastHeartbeat: string;
}

export interface JobStatus {
  job: string;
  lastSuccess: string | null;
  lastRun: {
    id: string;
    trigger: string;
    status: string | null;
    /** What it stored (its result's degradation); null while it runs. */
    degradation: string | null;
    startedAt: string;
    finishedAt: string | null;
    durationSeconds: number | null;
  } | null;
  documents: number;
  /** Enrich steps owed for items stored raw. */
  debts: number;
  /** A job with a memory sink: its episodes (raw or extracted), entities, facts and the tokens spent. */
  memory?: KnowledgeStats;
  phases: PhaseStatus[];
}

/** A recorded result's degradation, when it has one. */
function degradationOfResult(result: unknown): string | null {
  const d = (result as { degradation?: unknown } | null)?.degradation;
  return typeof d === "string" ? d : null;
}

const iso = (t: number | null | undefined): string | null => (t == null ? null : new Date(t).toISOString());

/** A job's checkpoints, plans and item counts, documents, debts, last run and last success. */
export async function jobStatus(ledger: Ledger, loaded: LoadedConfig, job: string): Promise<JobStatus> {
  const config = loaded.config.jobs[job]!;
  const docs = ledger.documents;
  const phases: PhaseStatus[] = [];
  for (const p of config.phases) {
    const ref = { job, phase: p.name, scope: "" };
    const cp = await ledger.plans.checkpoint(ref);
    const plan = await ledger.plans.latestPlan(ref);
    const leaseMs = loaded.config.sync.lease_seconds * 1000;
    const holders = plan?.state === "open" ? await ledger.plans.leaseHolders(plan.id) : [];
    phases.push({
      name: p.name,
      checkpoint: cp?.value ?? null,
      checkpointUpdatedAt: iso(cp?.updatedAt),
      plan: plan ? { id: plan.id, state: plan.state, target: plan.target } : null,
      items: plan ? await ledger.plans.count(plan.id) : null,
      documents:
        ledgerDocsTable(p.sink) !== undefined && docs
          ? await docs.count({ job, collection: ledgerDocsTable(p.sink)! })
          : null,
      workers: holders.map((h) => {
        const parts = h.owner.split(":");
        return {
          host: parts.slice(0, -2).join(":"),
          pid: Number(parts.at(-2)),
          owner: h.owner,
          inFlight: h.items,
          lastHeartbeat: new Date(h.expiresAt - leaseMs).toISOString(),
        };
      }),
    });
  }
  const [run] = await ledger.runs.list(job, 1);
  return {
    job,
    lastSuccess: (await ledger.meta.get(lastSuccessKey(job))) ?? null,
    lastRun: run
      ? {
          id: run.id,
          trigger: run.trigger,
          status: run.status,
          degradation: degradationOfResult(run.result),
          startedAt: iso(run.startedAt)!,
          finishedAt: iso(run.finishedAt),
          durationSeconds:
            run.finishedAt === null ? null : Math.round((run.finishedAt - run.startedAt) / 100) / 10,
        }
      : null,
    documents: docs ? await docs.count({ job }) : 0,
    debts: await ledger.resilience.countDebts(job),
    ...(ledger.knowledge && config.phases.some((p) => p.sink.type === "memory")
      ? { memory: await ledger.knowledge.stats(job) }
      : {}),
    phases,
  };
}

/** A circuit breaker as status shows it (a provider's or a replica target's). */
export interface BreakerHealth {
  state: string;
  failures: number;
  openUntil: string | null;
  reopenCount: number;
  isolated: boolean;
  reason: string | null;
}

export interface ProviderHealth {
  provider: string;
  breaker: BreakerHealth;
  gate: { pausedUntil: string | null; reason: string | null } | null;
}

/** Replica targets keep their breakers in the same table, as `replica:<replica>:<target>`: not providers. */
export const REPLICA_BREAKER_PREFIX = "replica:";

/** A breaker's row as status shows it; no row is a closed breaker that never failed. */
export function breakerHealth(b: BreakerRecord | undefined): BreakerHealth {
  return {
    state: b?.state ?? "closed",
    failures: b?.failures ?? 0,
    openUntil: iso(b?.openUntil ?? null),
    reopenCount: b?.reopenCount ?? 0,
    isolated: b?.isolated ?? false,
    reason: b?.reason ?? null,
  };
}

/** Breaker and rate-gate state of every configured provider (and any the ledger remembers). */
export async function providerHealth(
  ledger: Ledger,
  configured: readonly string[],
): Promise<ProviderHealth[]> {
  const breakers = new Map<string, BreakerRecord>(
    (await ledger.resilience.listBreakers())
      .filter((b) => !b.provider.startsWith(REPLICA_BREAKER_PREFIX))
      .map((b) => [b.provider, b]),
  );
  const gates = new Map<string, GateRecord>(
    (await ledger.resilience.listGates()).map((g) => [g.provider, g]),
  );
  const names = [...new Set([...configured, ...breakers.keys()])].sort();
  return names.map((provider) => {
    const g = gates.get(provider);
    return {
      provider,
      breaker: breakerHealth(breakers.get(provider)),
      gate: g && g.pausedUntil > Date.now() ? { pausedUntil: iso(g.pausedUntil), reason: g.reason } : null,
    };
  });
}
