import { redact } from "../config/secrets.js";
import type { SyncEvent } from "../events.js";
import type { Progress } from "../results.js";
import { degradationLabel } from "./degradation-label.js";

function eta(s: number | null): string {
  if (s === null) return "?";
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function progressLine(p: Progress): string {
  return (
    `${p.job}/${p.phase}: ${p.completed + p.skipped + p.dead}/${p.total} (${p.percent.toFixed(1)}%) ` +
    `completed=${p.completed} skipped=${p.skipped} failed=${p.failed} dead=${p.dead} pending=${p.pending + p.processing} ` +
    `· ${p.itemsPerSecond} items/s · ETA ${eta(p.etaSeconds)}`
  );
}

const bar = (percent: number, width: number): string => {
  const filled = Math.min(width, Math.max(0, Math.round((percent / 100) * width)));
  return "█".repeat(filled) + "░".repeat(width - filled);
};

/**
 * The bar's line for a terminal `columns` wide: the bar and every count when they fit, fewer parts when
 * they do not, and never more than columns - 1 characters (a line as wide as the terminal wraps on some,
 * and a wrapped bar can no longer be redrawn in place).
 */
export function fitProgress(p: Progress, columns: number): string {
  const max = Math.max(columns - 1, 1);
  const counts = `${p.completed + p.skipped + p.dead}/${p.total} (${p.percent.toFixed(1)}%) · ETA ${eta(p.etaSeconds)}`;
  const candidates = [
    `${bar(p.percent, 24)} ${progressLine(p)}`,
    `${bar(p.percent, 12)} ${p.job}/${p.phase}: ${counts}`,
    `${p.job}/${p.phase}: ${counts}`,
    `${bar(p.percent, 12)} ${p.phase}: ${counts}`,
    `${p.phase}: ${counts}`,
    counts,
  ];
  const fitting = candidates.find((c) => c.length <= max);
  return fitting ?? (max > 1 ? counts.slice(0, max - 1) + "…" : counts.slice(0, max));
}

/** Renders service events on stderr: a redrawn bar on a TTY, plain lines otherwise. Never touches stdout. */
export function createRenderer(stream: NodeJS.WriteStream, verbose: boolean): (e: SyncEvent) => void {
  const tty = stream.isTTY;
  let barShown = false;
  const clearBar = (): void => {
    if (barShown) stream.write("\r\x1b[2K");
    barShown = false;
  };
  const line = (text: string): void => {
    clearBar();
    stream.write(redact(text) + "\n");
  };
  return (e) => {
    switch (e.type) {
      case "progress": {
        if (e.total === 0) return;
        if (tty) {
          // read at every redraw: the terminal may have been resized
          stream.write(`\r\x1b[2K${fitProgress(e, stream.columns || 80)}`);
          barShown = true;
        } else line(progressLine(e));
        return;
      }
      case "plan:recorded":
        line(
          e.resumed
            ? `${e.job}/${e.phase}: resuming ${e.total} recorded items → ${e.target ?? "(no target)"}`
            : `${e.job}/${e.phase}: planned ${e.total} items (${e.mode}) ${e.from ?? "(start)"} → ${e.target ?? "(no target)"}`,
        );
        return;
      case "leases:requeued":
        line(`${e.job}/${e.phase}: ${e.count} items left by a stopped run are pending again`);
        return;
      case "item:failed":
        if (verbose || e.dead)
          line(
            `${e.job}/${e.phase}: ${e.key}: ${e.dead ? "DEAD" : "failed"} (${e.errorClass}): ${e.message}`,
          );
        return;
      case "retry:wait":
        line(`${e.job}/${e.phase}: waiting ${e.seconds}s before retrying failed items`);
        return;
      case "checkpoint:moved":
        line(`${e.job}/${e.phase}: checkpoint → ${e.to ?? "(none)"}`);
        return;
      case "breaker:transition":
        line(`[CIRCUIT] ${e.provider}: ${e.from} → ${e.to} (${e.reason})`);
        return;
      case "gate:pause":
        line(`[RATE] ${e.provider}: paused ${e.seconds.toFixed(1)}s (${e.reason})`);
        return;
      case "retry:attempt":
        if (verbose)
          line(
            `[RETRY] ${e.provider}: attempt ${e.attempt}/${e.maxAttempts} failed, retrying in ${(e.delayMs / 1000).toFixed(2)}s: ${e.message}`,
          );
        return;
      case "phase:end":
        clearBar();
        return;
      case "run:end": {
        const r = e.result;
        const degradation = degradationLabel(r);
        const n = (k: "completed" | "skipped" | "failed" | "dead" | "pending"): number =>
          r.phases.reduce((a, p) => a + p[k], 0);
        line(
          `${r.job}: ${r.status} in ${r.durationSeconds}s: ${n("completed")} completed, ${n("skipped")} skipped, ` +
            `${n("failed")} failed, ${n("dead")} dead, ${n("pending")} pending` +
            (degradation ? ` (degradation: ${degradation})` : "") +
            (r.error ? `\n${r.job}: error (${r.error.errorClass}): ${r.error.message}` : ""),
        );
        for (const w of r.warnings) line(`warning: ${w}`);
        return;
      }
      default:
        return;
    }
  };
}
