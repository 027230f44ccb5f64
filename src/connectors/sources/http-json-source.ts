import { createHash } from "node:crypto";
import type { HttpJsonSourceConfig } from "../../config/sources-schema.js";
import { isBrokenCircuitError, PermanentError } from "../../errors.js";
import type { HttpClient, HttpResponse } from "../../resilience/http-client.js";
import { sleep } from "../../resilience/sleep.js";
import type { ClaimedItem, PlannedItem } from "../../ledger/types.js";
import type { ConnectorContext, Fetched, Source, SourceListing } from "../types.js";

const MAX_BREAKER_WAITS = 100;

/** A value at a dot path ("data.items", "" for the value itself). */
export function at(value: unknown, dotPath: string): unknown {
  if (dotPath === "") return value;
  let cur = value;
  for (const part of dotPath.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function nextLink(link: string | null): string | undefined {
  for (const part of (link ?? "").split(",")) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * Items of a JSON API: pages (page number, offset, cursor or Link header), items at a path, a key
 * and a version per item, an incremental `since` cursor, and fan-out over an earlier phase's keys.
 */
export class HttpJsonSource implements Source {
  readonly type = "http-json";

  constructor(private readonly o: HttpJsonSourceConfig) {}

  /** Known only after listing (the newest `since` field seen). */
  target(): Promise<null> {
    return Promise.resolve(null);
  }

  list(from: string | null, _target: string | null, ctx: ConnectorContext): Promise<SourceListing> {
    const since = this.o.since && from !== null ? from : undefined;
    let newest = from;
    const field = this.o.since?.field;
    const observe = (record: unknown): void => {
      const v = field === undefined ? undefined : at(record, field);
      if (typeof v === "string" && (newest === null || v > newest)) newest = v;
    };
    return Promise.resolve({
      mode: since === undefined ? "snapshot" : "delta",
      items: this.records(since, ctx, observe),
      ...(this.o.since ? { finalTarget: () => newest } : {}),
    });
  }

  private async *records(
    since: string | undefined,
    ctx: ConnectorContext,
    observe: (record: unknown) => void,
  ): AsyncIterable<PlannedItem> {
    const parents = this.o.for_each === undefined ? [undefined] : ctx.parentKeys(this.o.for_each);
    for await (const parent of parents) {
      const url =
        parent === undefined ? this.o.url : this.o.url.replaceAll("{id}", encodeURIComponent(parent));
      for await (const record of this.pages(url, since, ctx)) {
        observe(record);
        const key = at(record, this.o.key);
        if (typeof key !== "string" && typeof key !== "number") {
          throw new PermanentError(`${url}: an item has no "${this.o.key}" field to use as its key`);
        }
        const v = this.o.version === undefined ? undefined : at(record, this.o.version);
        const version =
          typeof v === "string" || typeof v === "number"
            ? String(v)
            : createHash("sha256").update(JSON.stringify(record)).digest("hex").slice(0, 32);
        yield {
          key: String(key),
          version,
          op: "upsert",
          meta: { record, ...(parent === undefined ? {} : { parent }) },
        };
      }
    }
  }

  /** A listing is not an item that can be deferred: while the provider's breaker is open, wait for its probe (within the retry budget). */
  private async getWaitingOutOpenBreaker(
    http: HttpClient,
    url: string,
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    const giveUpAt = Date.now() + http.policy.options.retry.budgetMs;
    for (let waits = 0; ; waits++) {
      try {
        return await http.getJson(url, signal);
      } catch (e) {
        if (
          !isBrokenCircuitError(e) ||
          e.retryAt === undefined ||
          waits >= MAX_BREAKER_WAITS ||
          e.retryAt > giveUpAt
        )
          throw e;
        await sleep(Math.max(50, e.retryAt - Date.now()), signal);
        signal.throwIfAborted();
      }
    }
  }

  /** The record was captured when the plan was listed; it is the item's content. */
  fetch(item: ClaimedItem): Promise<Fetched> {
    const meta = item.meta ?? {};
    return Promise.resolve({
      content: JSON.stringify(meta.record, null, 2),
      metadata: { source: this.o.url, ...(meta.parent === undefined ? {} : { parent: meta.parent }) },
    });
  }

  private async *pages(
    url: string,
    since: string | undefined,
    ctx: ConnectorContext,
  ): AsyncIterable<unknown> {
    const http = ctx.http(this.o.provider);
    const p = this.o.pagination;
    const query = (extra: Record<string, string>): string => {
      const u = new URL(http.resolve(url));
      for (const [k, v] of Object.entries({ ...this.o.query, ...extra })) u.searchParams.set(k, v);
      if (since !== undefined && this.o.since) u.searchParams.set(this.o.since.param, since);
      return u.href;
    };
    const size = String(p.size);
    let next: string | undefined =
      p.style === "page" || p.style === "link"
        ? query({ [p.page_param]: "1", [p.size_param]: size })
        : p.style === "offset"
          ? query({ [p.offset_param]: "0", [p.size_param]: size })
          : p.style === "cursor"
            ? query({ [p.size_param]: size })
            : query({});
    for (let page = 1, offset = 0; next !== undefined && page <= p.max_pages; page++) {
      const res = await this.getWaitingOutOpenBreaker(http, next, ctx.signal);
      const list = at(res.body, this.o.items_path);
      if (!Array.isArray(list))
        throw new PermanentError(`${res.url}: no array at "${this.o.items_path}" in the response`);
      for (const record of list) yield record;
      offset += list.length;
      next = undefined;
      if (list.length === 0) break;
      if (p.style === "page") next = query({ [p.page_param]: String(page + 1), [p.size_param]: size });
      else if (p.style === "offset") next = query({ [p.offset_param]: String(offset), [p.size_param]: size });
      else if (p.style === "link") next = nextLink(res.headers.get("link"));
      else if (p.style === "cursor") {
        const cursor = at(res.body, p.cursor_path);
        if (typeof cursor === "string" && cursor !== "")
          next = query({ [p.cursor_param]: cursor, [p.size_param]: size });
      }
      if ((p.style === "page" || p.style === "offset") && list.length < p.size) next = undefined;
    }
  }
}
