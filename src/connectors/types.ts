import type { DocumentStore } from "../ledger/document-store.js";
import type { Extraction } from "../ledger/knowledge.js";
import type { ClaimedItem, DocumentWrite, PlanMode, PlannedItem } from "../ledger/types.js";
import type { HttpClient } from "../resilience/http-client.js";
import type { OwnProviderSpec } from "../resilience/providers.js";

/** What every connector is given: where it runs and how to stop. */
export interface ConnectorContext {
  job: string;
  phase: string;
  /** The folder of the configuration file; relative paths in options resolve against it. */
  baseDir: string;
  signal: AbortSignal;
  /** The resilient HTTP client of a configured provider (throws a ConfigError for an unknown name). */
  http(provider: string): HttpClient;
  /**
   * The HTTP client of a provider the connector defines itself (a github source's token), built once per
   * name; its breaker and rate gate are shared through the ledger like a configured provider's.
   */
  ownHttp(name: string, spec: OwnProviderSpec): HttpClient;
  /** Small values a connector keeps between runs and processes (ETags and the responses they name). */
  cache: KeyValueStore;
  /** Keys completed so far by an earlier phase of the same job (for fan-out, `for_each`), streamed. */
  parentKeys(phase: string): AsyncIterable<string>;
  /** The document store embedded in the ledger, when it has one (the sqlite-docs sink writes there). */
  documents?: DocumentStore;
  /**
   * The run this context serves (its phases and the debts it pays), when it serves one: a step keeps
   * per-run state by it (llm-extract's per-run token budget).
   */
  runId?: string;
  /** Reports something the run should warn about without failing (a glob that matches nothing). */
  warn?(message: string): void;
}

export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  /** Removes a value (a source's superseded state); a store without it keeps everything. */
  delete?(key: string): Promise<void>;
}

/** A source's listing: every item at the target (snapshot) or only the changes since the checkpoint (delta). */
export interface SourceListing {
  mode: PlanMode;
  items: AsyncIterable<PlannedItem>;
  /** Where the checkpoint moves, when it is only known once every item was listed (e.g. the newest updated_at). */
  finalTarget?: () => string | null;
}

/** An item's content, or the reason it is skipped (binary, oversized, ...). */
export type Fetched = { content: string; metadata?: Record<string, unknown> } | { skip: string };

/** Lists the items between a checkpoint and a target and fetches each one's content. */
export interface Source {
  readonly type: string;
  /** Where the next plan moves the checkpoint (a commit, a cursor); null when the source has none. */
  target(ctx: ConnectorContext): Promise<string | null>;
  /** Items from `from` (null: from scratch) to `target`. */
  list(from: string | null, target: string | null, ctx: ConnectorContext): Promise<SourceListing>;
  fetch(item: ClaimedItem, ctx: ConnectorContext): Promise<Fetched>;
  /** The id a scoped run (`--ids`) names an item by, when not its key (the sessions source: the session). */
  scopeId?(key: string): string;
  close?(): Promise<void>;
}

/** One document as it flows from source through enrich steps to a sink. */
export interface Doc {
  key: string;
  version: string;
  content: string;
  metadata: Record<string, unknown>;
  /** An embedding added by an enrich step; the sqlite-docs sink stores it beside the document. */
  vector?: { model: string; values: readonly number[] };
  /** Entities, facts and a summary an LLM extracted (llm-extract); the memory sink stores them with the episode. */
  extraction?: Extraction;
}

export type SinkChange = ({ kind: "upsert" } & Doc) | { kind: "delete"; key: string };

/**
 * Stores documents. Idempotent by (key, version). A sink may return document writes, which the
 * ledger commits in the same transaction as the item's completion (the embedded sqlite-docs sink does).
 */
export interface Sink {
  readonly type: string;
  apply(change: SinkChange, ctx: ConnectorContext): Promise<DocumentWrite[] | undefined>;
  /** The documents this sink stores, when it can be searched (`search` asks for it). */
  readonly documents?: DocumentStore;
  close?(): Promise<void>;
}

/** Adds derived data to a document (embeddings, a summary). */
export interface Enricher {
  readonly type: string;
  enrich(doc: Doc, ctx: ConnectorContext): Promise<Doc>;
  close?(): Promise<void>;
}

/** What a custom connector module's default export is: a factory given its options from the config. */
export type ConnectorFactory<T> = (
  options: Record<string, unknown>,
  ctx: Omit<ConnectorContext, "signal">,
) => T | Promise<T>;
