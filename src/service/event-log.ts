import type { EngineEvent } from "../engine/events.js";
import type { EventRecord } from "../ledger/types.js";

/** A one-line, human-readable message for an engine event, or undefined for events not worth persisting. */
export function describeEvent(e: EngineEvent): { level: EventRecord["level"]; message: string } | undefined {
  const at = `${e.job}/${e.phase}`;
  switch (e.type) {
    case "phase:start":
      return { level: "info", message: `${at}: phase started at checkpoint ${e.checkpoint ?? "(none)"}` };
    case "plan:recorded":
      return {
        level: "info",
        message: e.resumed
          ? `${at}: resuming plan ${e.planId} (${e.total} items, to ${e.target ?? "(no target)"})`
          : `${at}: planned ${e.total} items (${e.mode}, ${e.from ?? "(start)"} → ${e.target ?? "(no target)"})`,
      };
    case "leases:requeued":
      return { level: "warn", message: `${at}: ${e.count} items of a stopped run returned to pending` };
    case "progress":
      return {
        level: "info",
        message: `${at}: ${e.completed + e.skipped + e.dead}/${e.total} (${e.percent}%), ${e.failed} failed, ${e.itemsPerSecond} items/s, ETA ${e.etaSeconds ?? "?"}s`,
      };
    case "item:failed":
      return {
        level: e.dead ? "error" : "warn",
        message: `${at}: ${e.key} ${e.dead ? "dead" : "failed"} (${e.errorClass}, attempt ${e.attempts}): ${e.message}`,
      };
    case "retry:wait":
      return { level: "info", message: `[RETRY] ${at}: waiting ${e.seconds}s for failed items to be due` };
    case "checkpoint:moved":
      return { level: "info", message: `${at}: checkpoint ${e.from ?? "(none)"} → ${e.to ?? "(none)"}` };
    case "phase:end": {
      const r = e.result;
      return {
        level: "info",
        message: `${at}: phase ended: ${r.completed} completed, ${r.skipped} skipped, ${r.failed} failed, ${r.dead} dead, ${r.pending} pending`,
      };
    }
  }
}
