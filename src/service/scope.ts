import type { SyncRequest } from "./types.js";

export interface NormalScope {
  key: string;
  ids?: readonly string[];
  since?: string;
  entities?: readonly string[];
}

/** A scope's checkpoint key ("ids=a,b;since=…"); undefined for the job's main scope. */
export function normaliseScope(scope: SyncRequest["scope"]): NormalScope | undefined {
  if (!scope) return undefined;
  const ids = scope.ids?.map((s) => s.trim()).filter((s) => s !== "");
  const since = scope.since?.trim() || undefined;
  const entities = scope.entities?.length ? scope.entities : undefined;
  if (!ids?.length && since === undefined) return entities ? { key: "", entities } : undefined;
  const key = [ids?.length ? `ids=${[...ids].sort().join(",")}` : "", since ? `since=${since}` : ""]
    .filter(Boolean)
    .join(";");
  return {
    key,
    ...(ids?.length ? { ids } : {}),
    ...(since ? { since } : {}),
    ...(entities ? { entities } : {}),
  };
}
