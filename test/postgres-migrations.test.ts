import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { openPostgresLedger } from "../src/ledger/postgres/postgres-ledger.js";
import { PG_SCHEMA_VERSION } from "../src/ledger/postgres/migrations.js";
import { dropSchema, freshSchema, testPostgres } from "./helpers/postgres.js";

afterAll(async () => (await testPostgres()).stop());

describe("PostgreSQL ledger migrations", () => {
  it("ten workers opening a new schema at once migrate it once, and all of them work", async () => {
    const { url } = await testPostgres();
    const schema = freshSchema();
    const ledgers = Array.from({ length: 10 }, () => openPostgresLedger({ url, schema, poolSize: 2 }));
    try {
      await Promise.all(ledgers.map((l, i) => l.meta.set(`worker-${i}`, "up")));
      for (let i = 0; i < 10; i++) expect(await ledgers[(i + 1) % 10]!.meta.get(`worker-${i}`)).toBe("up");
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const applied = await c.query<{ version: number }>(
          `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
        );
        expect(applied.rows.map((r) => r.version)).toEqual(
          Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1),
        );
      } finally {
        await c.end();
      }
    } finally {
      for (const l of ledgers) await l.close();
      await dropSchema(url, schema);
    }
  });

  it("a schema name that is not a plain PostgreSQL name is refused, naming the key", () => {
    expect(() => openPostgresLedger({ url: "postgres://127.0.0.1:1/x", schema: "Bad-Name" })).toThrow(
      /ledger.schema "Bad-Name" is not a plain PostgreSQL name/,
    );
  });
});
