/** Above this share of free pages, compact() reclaims the space (VACUUM), and doctor says it would. */
export const VACUUM_FREE_RATIO = 0.3;

/** Sizes as doctor reports them. */
export interface StorageFacts {
  dbBytes: number;
  walBytes: number;
  pageCount: number;
  freePages: number;
  freeRatio: number;
}

/** A restore's outcome: where it came from, what was set aside, which candidates failed their check. */
export interface RestoreOutcome {
  restored: boolean;
  message: string;
  from?: string;
  movedAside: string[];
  rejected: { file: string; problem: string }[];
}

/**
 * The ledger's own health, for doctor: integrity, size, backups, compaction and restore. Usable on a
 * ledger that may be damaged (openMaintenance opens nothing for writing until a repair asks).
 */
export interface MaintenanceStore {
  /** Where the ledger keeps its data, for messages. */
  readonly location: string;
  /** Lets go of what openMaintenance opened (a server's connections); the store is not used after. */
  close?(): Promise<void>;
  /** False before the first run created the ledger. */
  exists(): boolean;
  /** Problems the integrity check found ([]: sound). `thorough`: the full check, not the quick one. */
  integrity(thorough: boolean): Promise<string[]>;
  size(): Promise<StorageFacts>;
  /** A consistent, verified copy of the whole ledger at `dest` (written atomically). */
  backup(dest: string): Promise<void>;
  /** Reclaims space and refreshes statistics; says what it did. */
  compact(): Promise<{
    message: string;
    details: StorageFacts & { vacuumed: boolean; before: StorageFacts };
  }>;
  /** Replaces a damaged ledger with the newest candidate backup that passes the integrity check. */
  restore(candidates: readonly { file: string; at: number }[]): Promise<RestoreOutcome>;
}
