import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Ledger } from "../src/ledger/ledger.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { ledgerContract } from "./ledger-contract/contract.js";

// a real SQLite file per test; a second connection on the same file stands in for another process
ledgerContract(
  "sqlite",
  () => {
    const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-ledger-"));
    const file = path.join(dir, "state.db");
    const handles: Ledger[] = [];
    const open = (at: string): Promise<Ledger> => {
      const ledger = openSqliteLedger(at);
      handles.push(ledger);
      return Promise.resolve(ledger);
    };
    const ledger = openSqliteLedger(file);
    handles.push(ledger);
    return Promise.resolve({
      ledger,
      dir,
      second: () => open(file),
      reopen: async () => {
        handles.splice(handles.indexOf(ledger), 1);
        await ledger.close();
        return open(file);
      },
      openBackup: (backup) => open(backup),
      cleanup: async () => {
        for (const h of handles) await h.close();
        rmSync(dir, { recursive: true, force: true });
      },
    });
  },
  { documents: true, clockToleranceMs: 1_000 },
);
