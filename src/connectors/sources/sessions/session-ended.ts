/** The metadata key where the hook marks a transcript finished (`syncwarden sessions hook`). */
export const sessionEndedKey = (file: string): string => `sessions-ended:${file}`;

/** A hook's mark: when (epoch ms) and why (SessionEnd: "end"; PreCompact: "flush"). */
export interface SessionEnded {
  at: number;
  mode: "end" | "flush";
}

/** How long after the mark the agent may still write to the file and the mark hold. */
const GRACE_MS = 10_000;

/** Whether a mark still holds for the file as it is now: nothing was written after it (a resumed session was). */
export function endedHolds(mark: string | undefined, mtimeMs: number): boolean {
  if (mark === undefined) return false;
  try {
    const m = JSON.parse(mark) as Partial<SessionEnded>;
    return typeof m.at === "number" && mtimeMs <= m.at + GRACE_MS;
  } catch {
    return false;
  }
}
