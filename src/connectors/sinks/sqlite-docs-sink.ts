import { ConfigError } from "../../errors.js";
import type { DocumentStore } from "../../ledger/document-store.js";
import type { DocumentWrite } from "../../ledger/types.js";
import type { ConnectorContext, Sink, SinkChange } from "../types.js";

/**
 * Documents in the ledger's own database: the writes it returns travel in the item's settlement, so
 * they commit with its completion. It offers that store for `search`.
 */
export class SqliteDocsSink implements Sink {
  readonly type = "sqlite-docs";

  constructor(
    private readonly collection: string,
    readonly documents: DocumentStore,
  ) {}

  static from(collection: string, at: string, documents: DocumentStore | undefined): SqliteDocsSink {
    if (!documents)
      throw new ConfigError(
        `${at}: sqlite-docs needs a ledger with an embedded document store (the SQLite ledger)`,
      );
    return new SqliteDocsSink(collection, documents);
  }

  apply(change: SinkChange, ctx: ConnectorContext): Promise<DocumentWrite[]> {
    const { job } = ctx;
    const write: DocumentWrite =
      change.kind === "delete"
        ? { kind: "delete", job, collection: this.collection, key: change.key }
        : {
            kind: "upsert",
            job,
            collection: this.collection,
            key: change.key,
            version: change.version,
            content: change.content,
            metadata: change.metadata,
            ...(change.vector ? { vector: change.vector } : {}),
          };
    return Promise.resolve([write]);
  }
}
