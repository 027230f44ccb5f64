import { ConfigError } from "../../errors.js";
import type { DocumentStore } from "../../ledger/document-store.js";
import type { DocumentWrite } from "../../ledger/types.js";
import type { ConnectorContext, Sink, SinkChange } from "../types.js";
import { episodeOrigin } from "./episode-origin.js";

/**
 * Episodes and their knowledge (`memory`): the episode's text goes to the ledger's document store (keyword
 * search finds it at once, raw or not), and what an llm-extract step made of it (entities, facts, a summary)
 * to its knowledge store, replacing what an earlier version of the episode gave. Both writes travel in the
 * item's settlement, so they commit with its completion.
 */
export class MemorySink implements Sink {
  readonly type = "memory";

  constructor(
    private readonly collection: string,
    readonly documents: DocumentStore,
  ) {}

  static from(collection: string, at: string, documents: DocumentStore | undefined): MemorySink {
    if (!documents) throw new ConfigError(`${at}: memory needs a ledger with an embedded document store`);
    return new MemorySink(collection, documents);
  }

  apply(change: SinkChange, ctx: ConnectorContext): Promise<DocumentWrite[]> {
    const { job } = ctx;
    const at = { job, collection: this.collection, key: change.key };
    // the document's delete takes its episode and knowledge with it
    if (change.kind === "delete") return Promise.resolve([{ kind: "delete", ...at }]);
    const { content, version, metadata, vector, extraction } = change;
    return Promise.resolve([
      { kind: "upsert", ...at, version, content, metadata, ...(vector ? { vector } : {}) },
      { kind: "knowledge", ...at, version, origin: episodeOrigin(metadata), extraction: extraction ?? null },
    ]);
  }
}
