import type { MetaStore } from "../meta-store.js";
import type { PgDatabase } from "./pg-database.js";

export class PgMetaStore implements MetaStore {
  constructor(private readonly db: PgDatabase) {}

  async get(key: string): Promise<string | undefined> {
    const rows = await this.db.query<{ value: string }>("SELECT value FROM metadata WHERE key = $1", [key]);
    return rows[0]?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.db.query(
      "INSERT INTO metadata (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      [key, value],
    );
  }

  async delete(key: string): Promise<void> {
    await this.db.query("DELETE FROM metadata WHERE key = $1", [key]);
  }
}
