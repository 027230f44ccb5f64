import { z } from "zod";
import { name } from "./names.js";

/** Documents in the PostgreSQL ledger's own database (workers on many machines write one store). */
export const postgresDocsSinkSchema = z.strictObject({
  type: z.literal("postgres-docs"),
  table: name("table").optional(),
});

/**
 * Episodes of agent sessions with what an LLM extracted from them (entities, facts): the knowledge store of
 * the ledger's own database, beside the episodes' text in its document store (searched by `memory search`).
 */
export const memorySinkSchema = z.strictObject({
  type: z.literal("memory"),
  table: name("table").optional(),
});

export const sqliteDocsSinkSchema = z.strictObject({
  type: z.literal("sqlite-docs"),
  /** The collection documents go to; default: the phase's name (so phases never overwrite each other's keys). */
  table: name("table").optional(),
});

export type MemorySinkConfig = z.infer<typeof memorySinkSchema>;
