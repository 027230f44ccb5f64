/**
 * Pagination for the fault-injecting test server. One endpoint speaks three styles:
 * - page:   `?page=N&per_page=M` → `{ items, page, total_pages, total }` + `Link: <…>; rel="next"`
 * - offset: `?offset=O&limit=L`  → `{ items, offset, total }`
 * - cursor: `?cursor=C&limit=L`  → `{ items, next_cursor }` (keyset cursor, stable under updates)
 * A request naming none of page/offset/cursor (e.g. only `limit`, or nothing) gets the first page with the
 * metadata of every style, so page, offset and cursor clients can all start without a style parameter.
 * `since=<ISO>` keeps only items with updated_at strictly greater than `since`, in every style.
 */

export interface Timestamped {
  id: number;
  updated_at: string;
}

export const MAX_PAGE_SIZE = 100;

export interface PageResult {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** Orders by updated_at, then id (the order every listing uses). */
export function byUpdatedThenId(a: Timestamped, b: Timestamped): number {
  return Date.parse(a.updated_at) - Date.parse(b.updated_at) || a.id - b.id;
}

function encodeCursor(item: Timestamped): string {
  return Buffer.from(`${Date.parse(item.updated_at)}:${item.id}`, "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { t: number; id: number } | undefined {
  const m = /^(\d{1,16}):(\d{1,16})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!m) return undefined;
  return { t: Number(m[1]), id: Number(m[2]) };
}

function bad(message: string): PageResult {
  return { status: 400, body: { error: message }, headers: {} };
}

/** Parses a non-negative integer query parameter; `undefined` when absent, NaN when invalid. */
function intParam(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  return /^\d{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
}

/**
 * Paginates `sorted` (already ordered by {@link byUpdatedThenId}) according to the request's query.
 * `requestUrl` must be absolute (the server's own origin) — it is the base of the `Link` header.
 */
export function paginate(
  sorted: readonly Timestamped[],
  requestUrl: URL,
  defaultPageSize: number,
): PageResult {
  const params = requestUrl.searchParams;

  let items = sorted;
  const since = params.get("since");
  if (since !== null) {
    const sinceMs = Date.parse(since);
    if (Number.isNaN(sinceMs)) return bad("invalid since (expected an ISO date)");
    items = items.filter((it) => Date.parse(it.updated_at) > sinceMs);
  }
  const total = items.length;

  const requested = intParam(params, "per_page") ?? intParam(params, "limit");
  if (requested !== undefined && !(requested >= 1)) return bad("per_page/limit must be an integer ≥ 1");
  const size = Math.min(requested ?? defaultPageSize, MAX_PAGE_SIZE);

  const cursor = params.get("cursor");
  if (cursor !== null) {
    let start = 0;
    if (cursor !== "") {
      const pos = decodeCursor(cursor);
      if (!pos) return bad("invalid cursor");
      start = items.findIndex((it) => {
        const t = Date.parse(it.updated_at);
        return t > pos.t || (t === pos.t && it.id > pos.id);
      });
      if (start < 0) start = items.length;
    }
    const page = items.slice(start, start + size);
    const last = page.at(-1);
    const nextCursor = last !== undefined && start + size < items.length ? encodeCursor(last) : null;
    return { status: 200, body: { items: page, next_cursor: nextCursor }, headers: {} };
  }

  const offset = intParam(params, "offset");
  if (offset !== undefined) {
    if (Number.isNaN(offset)) return bad("offset must be an integer ≥ 0");
    return { status: 200, body: { items: items.slice(offset, offset + size), offset, total }, headers: {} };
  }

  const explicitPage = intParam(params, "page");
  if (explicitPage !== undefined && !(explicitPage >= 1)) return bad("page must be an integer ≥ 1");
  const pageNo = explicitPage ?? 1;
  const totalPages = Math.ceil(total / size);
  const page = items.slice((pageNo - 1) * size, pageNo * size);
  const headers: Record<string, string> = {};
  if (pageNo < totalPages) {
    const next = new URL(requestUrl.href);
    next.searchParams.delete("limit");
    next.searchParams.set("page", String(pageNo + 1));
    next.searchParams.set("per_page", String(size));
    headers.link = `<${next.href}>; rel="next"`;
  }
  const body: Record<string, unknown> = { items: page, page: pageNo, total_pages: totalPages, total };
  if (explicitPage === undefined && !params.has("per_page")) {
    // No style named: also speak offset and cursor so any client can start here.
    const last = page.at(-1);
    body.offset = 0;
    body.next_cursor = last !== undefined && size < total ? encodeCursor(last) : null;
  }
  return { status: 200, body, headers };
}
