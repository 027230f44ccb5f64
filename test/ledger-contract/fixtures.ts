import type { Ledger } from "../../src/ledger/ledger.js";
import type {
  ClaimedItem,
  PhaseRef,
  PlanMode,
  PlannedItem,
  PlanRecord,
  Settlement,
} from "../../src/ledger/types.js";

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const phaseRef = (job = "j", phase = "p", scope = ""): PhaseRef => ({ job, phase, scope });

/** Upserts of `keys` at version "1" (a key may be given as a full item). */
export const upserts = (keys: readonly (string | PlannedItem)[]): PlannedItem[] =>
  keys.map((k) => (typeof k === "string" ? { key: k, version: "1", op: "upsert" } : k));

/** A plan recorded and sealed (open), as a run plans one. */
export async function openPlan(
  ledger: Ledger,
  items: readonly (string | PlannedItem)[],
  opts: { ref?: PhaseRef; target?: string | null; mode?: PlanMode } = {},
): Promise<PlanRecord> {
  const plans = ledger.plans;
  const plan = await plans.createPlan(
    opts.ref ?? phaseRef(),
    null,
    opts.target ?? "T1",
    opts.mode ?? "snapshot",
  );
  await plans.recordItems(plan, upserts(items));
  await plans.sealPlan(plan);
  return plan;
}

/** A settlement of a claimed item of `plan`. */
export function settlement(
  plan: PhaseRef,
  item: ClaimedItem,
  status: Settlement["status"],
  extra: Partial<Settlement> = {},
): Settlement {
  return {
    id: item.id,
    fence: item.fence,
    job: plan.job,
    phase: plan.phase,
    key: item.key,
    status,
    ...extra,
  };
}

/** Completes claimed items, fingerprinting each at its version. */
export async function complete(ledger: Ledger, plan: PhaseRef, items: readonly ClaimedItem[]): Promise<void> {
  await ledger.plans.settle(
    items.map((i) => settlement(plan, i, "COMPLETED", { fingerprint: i.op === "delete" ? null : i.version })),
  );
}

/** Claims every due item of the plan and completes it. */
export async function completeAll(ledger: Ledger, plan: PlanRecord, owner = "worker"): Promise<void> {
  for (;;) {
    const batch = await ledger.plans.claim(plan.id, owner, 60_000, 500);
    if (batch.length === 0) return;
    await complete(ledger, plan, batch);
  }
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of source) out.push(x);
  return out;
}
