import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import type { Ledger } from "../src/ledger/ledger.js";
import { openPostgresLedger } from "../src/ledger/postgres/postgres-ledger.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import { ledgerContract } from "./ledger-contract/contract.js";
import { dropSchema, freshSchema, testPostgres } from "./helpers/postgres.js";

afterAll(async () => (await testPostgres()).stop());

// a real PostgreSQL server, a schema of its own per test; a second pool on the same schema stands in
// for another process or machine. A backup is a SQLite ledger file (the portable form), opened as one.
ledgerContract(
  "postgres",
  async () => {
    const { url } = await testPostgres();
    const schema = freshSchema();
    const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-ledger-pg-"));
    const handles: Ledger[] = [];
    const open = (): Ledger => {
      const ledger = openPostgresLedger({ url, schema, poolSize: 4 });
      handles.push(ledger);
      return ledger;
    };
    const ledger = open();
    return {
      ledger,
      dir,
      second: () => Promise.resolve(open()),
      reopen: async () => {
        handles.splice(handles.indexOf(ledger), 1);
        await ledger.close();
        return open();
      },
      openBackup: (file) => {
        const copy = openSqliteLedger(file);
        handles.push(copy);
        return Promise.resolve(copy);
      },
      cleanup: async () => {
        for (const h of handles) await h.close();
        await dropSchema(url, schema);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  { documents: true, clockToleranceMs: 1_000 },
);
