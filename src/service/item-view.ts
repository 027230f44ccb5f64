import type { ItemRow } from "../ledger/types.js";

/** An item as the surfaces show it (`items --json`, `failed --json`, MCP failed_items): times as ISO strings. */
export interface ItemView {
  job: string;
  phase: string;
  key: string;
  version: string | null;
  op: string;
  status: ItemRow["status"];
  attempts: number;
  reason: string | null;
  errorClass: ItemRow["errorClass"];
  error: string | null;
  nextAttemptAt: string | null;
  updatedAt: string;
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export function itemView(r: ItemRow): ItemView {
  return {
    job: r.job,
    phase: r.phase,
    key: r.key,
    version: r.version,
    op: r.op,
    status: r.status,
    attempts: r.attempts,
    reason: r.reason,
    errorClass: r.errorClass,
    error: r.errorMessage,
    nextAttemptAt: iso(r.nextAttemptAt),
    updatedAt: new Date(r.updatedAt).toISOString(),
  };
}
