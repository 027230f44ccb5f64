import type { DocumentWrite } from "../../ledger/types.js";
import type { ConnectorContext, Sink, SinkChange } from "../types.js";

/** Documents in the ledger's own database: the write commits with the item's completion. */
export class SqliteDocsSink implements Sink {
  readonly type = "sqlite-docs";

  constructor(private readonly collection: string) {}

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
