import type Database from "better-sqlite3";
import type { MetaStore } from "../meta-store.js";

export class SqliteMetaStore implements MetaStore {
  private readonly read;
  private readonly write;
  private readonly remove;

  constructor(db: Database.Database) {
    this.read = db.prepare<[string], string>("SELECT value FROM metadata WHERE key = ?").pluck();
    this.write = db.prepare<[string, string]>(
      "INSERT INTO metadata (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    );
    this.remove = db.prepare<[string]>("DELETE FROM metadata WHERE key = ?");
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.read.get(key));
  }

  set(key: string, value: string): Promise<void> {
    this.write.run(key, value);
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.remove.run(key);
    return Promise.resolve();
  }
}
