import type { SyncService } from "../service/sync-service.js";
import type { Extra } from "./tool-kit.js";

/**
 * Forwards the progress of one run (by id) as `notifications/progress` while the request that asked for
 * them is open (the client sent a progress token); returns the unsubscribe. Progress only grows, across
 * phases too (the totals of earlier phases are added).
 */
export function forwardProgress(service: SyncService, runId: string, extra: Extra): () => void {
  const token = extra._meta?.progressToken;
  if (token === undefined) return () => undefined;
  let job: string | undefined;
  let base = 0;
  let phase: string | undefined;
  let phaseTotal = 0;
  let sent = -1;
  const subscription = service.on((e) => {
    if (e.type === "run:start" && e.runId === runId) job = e.job;
    if (job === undefined || e.type !== "progress" || e.job !== job) return;
    if (phase !== undefined && e.phase !== phase) base += phaseTotal;
    phase = e.phase;
    phaseTotal = e.total;
    const done = e.completed + e.skipped + e.dead;
    if (base + done <= sent) return;
    sent = base + done;
    extra
      .sendNotification({
        method: "notifications/progress",
        params: {
          progressToken: token,
          progress: sent,
          total: base + e.total,
          message: `${e.phase}: ${done}/${e.total}`,
        },
      })
      .catch(() => undefined);
  });
  return () => subscription.dispose();
}
