import type { EventRecord } from "./types.js";

/** The event log: what happened, for `events`, doctor and people. */
export interface EventStore {
  append(events: readonly EventRecord[]): Promise<void>;
  /** The newest `limit` events (of a job, since a time), oldest first. */
  list(filter: { job?: string; since?: number; limit: number }): Promise<EventRecord[]>;
}
