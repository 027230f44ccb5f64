import type { Trigger } from "../results.js";

export type { Degradation, RunStatus, SyncResult, SyncStatus, Trigger } from "../results.js";

/** One request shape for every entry point (DESIGN.md). */
export interface SyncRequest {
  job: string;
  phases?: readonly string[];
  scope?: { ids?: readonly string[]; since?: string; entities?: readonly string[] };
  options?: { force?: boolean; incrementalOnly?: boolean; nuke?: boolean; wait?: number | false };
  trigger: Trigger;
  signal?: AbortSignal;
  /** The run's id, when the caller names it before the run starts (MCP returns it at once); a UUID otherwise. */
  runId?: string;
}
