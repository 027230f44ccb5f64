// A consistent copy of a live SQLite database: the ledger's backups and the replicas' snapshots use it.

/** What the copy needs of a better-sqlite3 connection (named structurally: the published types need no @types/better-sqlite3). */
export interface BackupSource {
  backup(
    destination: string,
    options: { progress: (info: { totalPages: number; remainingPages: number }) => number },
  ): Promise<unknown>;
}

/** Pages copied per turn of the event loop while nobody else writes (4 MB at 4 KiB pages). */
const PAGES_PER_STEP = 1000;
/** The largest step better-sqlite3 takes: every remaining page at once (0 would pause the copy). */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies `source` into `dest` through the backup API: a budget of pages per step, so the event loop keeps
 * turning; once another connection's write restarts the copy, every remaining page in one step (one read
 * transaction: a consistent snapshot). An unbounded stepped copy under a steady writer restarts for ever.
 */
export async function backupSqlite(source: BackupSource, dest: string): Promise<void> {
  let remaining = Number.POSITIVE_INFINITY;
  let restarted = false;
  await source.backup(dest, {
    progress: ({ remainingPages }) => {
      // a restart starts again from the first page: more pages remain than after the step before
      if (remainingPages > remaining) restarted = true;
      remaining = remainingPages;
      return restarted ? ALL_PAGES : PAGES_PER_STEP;
    },
  });
}
