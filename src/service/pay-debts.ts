import { buildConnectors, closeConnectors, type PhaseConnectors } from "../connectors/build-connectors.js";
import type { ConnectorContext, Doc } from "../connectors/types.js";
import { ledgerDocsTable, type JobConfig } from "../config/schema.js";
import { errorMessage, isDegradableError } from "../errors.js";
import type { ResilienceStore } from "../ledger/resilience-store.js";
import type { DebtRecord, DocumentWrite } from "../ledger/types.js";
import { redact } from "../config/secrets.js";

const SERIAL_FIRST = 8;

export interface DebtOutcome {
  paid: number;
  remaining: number;
  /** Providers whose debts could not be paid this time (still down). */
  stillDown: string[];
}

/**
 * Runs owed enrich steps on documents stored raw, a page at a time. A provider that fails stops
 * being asked this round (unless the failure was the item's alone: an unusable answer); its debts stay
 * for the next run or `retry --debts`.
 */
export async function payDebts(
  debts: ResilienceStore,
  jobName: string,
  job: JobConfig,
  context: (phase: string) => Omit<ConnectorContext, "signal">,
  signal: AbortSignal,
): Promise<DebtOutcome> {
  const down = new Set<string>();
  const connectors = new Map<string, PhaseConnectors>();
  let paid = 0;
  let attempts = 0;
  try {
    for (let after = 0; !signal.aborted;) {
      const page = await debts.listDebts({ job: jobName, limit: 64, afterId: after });
      if (page.length === 0) break;
      after = page[page.length - 1]!.id;
      // the first few go one at a time: a half-open breaker admits one probe, and must close before a crowd arrives
      const serial = page.splice(0, Math.max(0, SERIAL_FIRST - attempts));
      for (const debt of serial) {
        attempts++;
        await pay(debt);
      }
      await Promise.all(page.map(pay));
    }
  } finally {
    await Promise.all([...connectors.values()].map(closeConnectors));
  }
  return { paid, remaining: await debts.countDebts(jobName), stillDown: [...down] };

  async function pay(debt: DebtRecord): Promise<void> {
    const phase = job.phases.find((p) => p.name === debt.phase);
    const sinkTable = phase ? ledgerDocsTable(phase.sink) : undefined;
    if (!phase || sinkTable === undefined || debt.provider === null || down.has(debt.provider)) {
      if (!phase) await debts.settleDebt(debt.id, true, null); // the phase is gone: nothing is owed
      return;
    }
    let c = connectors.get(phase.name);
    if (!c) {
      c = await buildConnectors(phase, context(phase.name));
      connectors.set(phase.name, c);
    }
    const step = c.enrich[debt.step];
    // the documents are the sink's: it stored the raw version, and takes the enrichment
    const docs = c.sink.documents;
    const stored = await docs?.get(jobName, sinkTable, debt.key);
    if (!docs || !step || stored?.version !== debt.version) {
      // a newer version was (or will be) processed in full: this debt is void
      await debts.settleDebt(debt.id, true, null);
      return;
    }
    try {
      const doc: Doc = { key: debt.key, version: debt.version, content: stored.content, metadata: {} };
      const enriched = await step.step.enrich(doc, { ...context(phase.name), signal });
      const at = { job: jobName, collection: sinkTable, key: debt.key, version: debt.version };
      const writes: DocumentWrite[] = [
        ...(enriched.vector ? [{ kind: "vector" as const, ...at, vector: enriched.vector }] : []),
        ...(enriched.extraction
          ? [{ kind: "knowledge" as const, ...at, extraction: enriched.extraction }]
          : []),
      ];
      // the enrichment and the debt's end commit together: a debt is paid once, or stays owed
      await docs.write(writes, { paid: debt.id });
      paid++;
    } catch (e) {
      // an answer unusable for this item alone (malformed twice, refused) leaves the provider to the others
      if (!isDegradableError(e)) down.add(debt.provider);
      await debts.settleDebt(debt.id, false, redact(errorMessage(e)).slice(0, 500));
    }
  }
}
