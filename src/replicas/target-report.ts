import { errorMessage } from "../errors.js";
import type { ConflictReport } from "./apply.js";
import type { Action } from "./reconcile.js";

// What a run of one (replica, target) is asked and what it reports.

export interface RunOptions {
  dryRun: boolean;
  force: boolean;
  /** Stops the run between folders of the walk and between actions; what was done is recorded. */
  signal?: AbortSignal;
  /** Told, in a line, when a target starts applying changes and at each checkpoint of them. */
  progress?: (line: string) => void;
}

export type TargetStatus = "ok" | "dry-run" | "skipped" | "refused" | "error" | "locked" | "interrupted";

export interface TargetReport {
  replica: string;
  target: string;
  status: TargetStatus;
  message?: string;
  /** True when the target looked unreachable (counts as a breaker failure). */
  unreachable?: boolean;
  initialised?: boolean;
  copied: number;
  deleted: number;
  conflicts: ConflictReport[];
  skipped: { path: string; reason: string }[];
  errors: { path: string; message: string }[];
  collisions: string[][];
  symlinksOutside: string[];
  plan?: Action[];
  /** The state snapshot written to the target this run (replicas of the state folder, at most hourly). */
  snapshot?: string;
}

export function emptyReport(
  t: { replica: string; target: string },
  status: TargetStatus,
  message?: string,
): TargetReport {
  return {
    replica: t.replica,
    target: t.target,
    status,
    ...(message === undefined ? {} : { message }),
    copied: 0,
    deleted: 0,
    conflicts: [],
    skipped: [],
    errors: [],
    collisions: [],
    symlinksOutside: [],
  };
}

/** A failure to read one side, so the report can say which. */
export class SideError extends Error {
  constructor(
    readonly side: "local" | "remote",
    override readonly cause: unknown,
  ) {
    super(errorMessage(cause));
  }
}
