import { ConfigError } from "../../errors.js";
import type { DocumentStore } from "../../ledger/document-store.js";
import type { DocumentWrite } from "../../ledger/types.js";
import { chunkDocument } from "../chunking/chunk-document.js";
import type { ConnectorContext, Sink, SinkChange } from "../types.js";

/**
 * Documents in the ledger's own database (`sqlite-docs`; `postgres-docs` names the PostgreSQL ledger's,
 * shared by workers on many machines): the writes it returns travel in the item's settlement, so they
 * commit with its completion. Files are cut along their syntax (or by lines) on the way. It offers
 * that store for `search`.
 */
export class LedgerDocsSink implements Sink {
  constructor(
    readonly type: "sqlite-docs" | "postgres-docs",
    private readonly collection: string,
    readonly documents: DocumentStore,
  ) {}

  static from(
    type: "sqlite-docs" | "postgres-docs",
    collection: string,
    at: string,
    documents: DocumentStore | undefined,
  ): LedgerDocsSink {
    if (!documents) throw new ConfigError(`${at}: ${type} needs a ledger with an embedded document store`);
    return new LedgerDocsSink(type, collection, documents);
  }

  async apply(change: SinkChange, ctx: ConnectorContext): Promise<DocumentWrite[]> {
    const { job } = ctx;
    if (change.kind === "delete")
      return [{ kind: "delete", job, collection: this.collection, key: change.key }];
    // cut before the write: parsing is async, and the write commits in the item's synchronous transaction
    const chunks = await chunkDocument(change.content, change.metadata, { warn: (m) => ctx.warn?.(m) });
    return [
      {
        kind: "upsert",
        job,
        collection: this.collection,
        key: change.key,
        version: change.version,
        content: change.content,
        metadata: change.metadata,
        ...(change.vector ? { vector: change.vector } : {}),
        ...(chunks ? { chunks } : {}),
      },
    ];
  }
}
