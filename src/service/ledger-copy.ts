import path from "node:path";
import type { LoadedConfig } from "../config/load-config.js";
import { redact } from "../config/secrets.js";
import { UsageError } from "../errors.js";
import { copyLedger, LedgerNotEmptyError, type CopyResult } from "../ledger/ledger-copy.js";
import { openLedger, openLedgerAt } from "../ledger/open-ledger.js";

export interface LedgerCopyOptions {
  /** The destination's schema when it is a PostgreSQL URL (default syncwarden). */
  schema?: string;
  /** Empty a destination that holds rows first. */
  replace?: boolean;
  onProgress?: (p: { table: string; rows: number }) => void;
}

/**
 * `ledger copy --to`: everything the configuration's ledger holds (runs, items, checkpoints, breakers,
 * events, documents and vectors) into another ledger, SQLite ↔ PostgreSQL, every table's count and
 * checksum compared on the copy. A user who outgrows SQLite moves without re-syncing (and back).
 */
export async function copyLedgerTo(
  loaded: LoadedConfig,
  to: string,
  o: LedgerCopyOptions = {},
): Promise<CopyResult & { from: string; to: string }> {
  const place = /^postgres(ql)?:\/\//.test(to) ? to : path.resolve(to);
  const source = openLedger(loaded);
  try {
    const dest = openLedgerAt(place, o.schema);
    try {
      if (dest.location === source.location)
        throw new UsageError(`--to names the configuration's own ledger (${source.location})`);
      const result = await copyLedger(source, dest, {
        ...(o.replace ? { replace: true } : {}),
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      });
      return { ...result, from: source.location, to: redact(dest.location) };
    } catch (e) {
      if (e instanceof LedgerNotEmptyError)
        throw new UsageError(`${redact(e.message)} (pass --replace to empty it first)`);
      throw e;
    } finally {
      await dest.close();
    }
  } finally {
    await source.close();
  }
}
