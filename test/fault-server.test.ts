import { afterEach, describe, expect, it } from "vitest";
import {
  startFaultServer,
  type Fault,
  type FaultServer,
  type FaultServerOptions,
} from "../src/testing/fault-server.js";
import { FixedWindowLimiter } from "../src/testing/fault-ratelimit.js";

interface Item {
  id: number;
  updated_at: string;
}
interface PageBody {
  items: Item[];
  page: number;
  total_pages: number;
  total: number;
}
interface OffsetBody {
  items: Item[];
  offset: number;
  total: number;
}
interface CursorBody {
  items: Item[];
  next_cursor: string | null;
}
interface EmbeddingBody {
  object: string;
  data: { object: string; index: number; embedding: number[] }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

const MAX_PAGES = 50;
let servers: FaultServer[] = [];

async function start(options: FaultServerOptions = {}): Promise<FaultServer> {
  const s = await startFaultServer(options);
  servers.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  expect(res.headers.get("content-type")).toBe("application/json");
  return (await res.json()) as T;
}

async function walkPages(base: string, perPage: number): Promise<number[]> {
  const ids: number[] = [];
  for (let page = 1; page <= MAX_PAGES; page++) {
    const body = await getJson<PageBody>(
      `${base}${base.includes("?") ? "&" : "?"}page=${page}&per_page=${perPage}`,
    );
    ids.push(...body.items.map((i) => i.id));
    if (page >= body.total_pages) return ids;
  }
  throw new Error("too many pages");
}

async function walkOffsets(base: string, limit: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < MAX_PAGES; i++) {
    const body = await getJson<OffsetBody>(
      `${base}${base.includes("?") ? "&" : "?"}offset=${ids.length}&limit=${limit}`,
    );
    ids.push(...body.items.map((it) => it.id));
    if (ids.length >= body.total || body.items.length === 0) return ids;
  }
  throw new Error("too many pages");
}

async function walkCursor(base: string, limit: number): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < MAX_PAGES; i++) {
    const sep = base.includes("?") ? "&" : "?";
    const q: string =
      cursor === null ? `limit=${limit}` : `cursor=${encodeURIComponent(cursor)}&limit=${limit}`;
    const body = await getJson<CursorBody>(`${base}${sep}${q}`);
    ids.push(...body.items.map((it) => it.id));
    cursor = body.next_cursor;
    if (cursor === null) return ids;
  }
  throw new Error("too many pages");
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

function cosine(a: number[], b: number[]): number {
  return a.reduce((s, v, i) => s + v * b[i]!, 0);
}

describe("fault server: listings", () => {
  it("serves every product exactly once in page, offset and cursor styles", async () => {
    const s = await start({ products: 45 });
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.data.products).toHaveLength(45);
    expect(s.data.products[0]).toMatchObject({
      id: 1,
      name: "Product 1",
      updated_at: "2026-01-01T00:01:00.000Z",
      version: 1,
    });
    expect(await walkPages(`${s.url}/products`, 10)).toEqual(range(45));
    expect(await walkOffsets(`${s.url}/products`, 7)).toEqual(range(45));
    expect(await walkCursor(`${s.url}/products`, 8)).toEqual(range(45));

    const first = await getJson<PageBody & OffsetBody & CursorBody>(`${s.url}/products`);
    expect(first.items).toHaveLength(20); // default page size
    expect(first).toMatchObject({ page: 1, total_pages: 3, total: 45, offset: 0 });
    expect(typeof first.next_cursor).toBe("string");
    const capped = await getJson<PageBody>(`${s.url}/products?page=1&per_page=1000`);
    expect(capped.items).toHaveLength(45);
    expect((await fetch(`${s.url}/products?cursor=garbage`)).status).toBe(400);
    expect((await fetch(`${s.url}/products?per_page=0`)).status).toBe(400);
  });

  it("walks the Link header chain with absolute URLs", async () => {
    const s = await start({ products: 23 });
    const ids: number[] = [];
    let next: string | undefined = `${s.url}/products?page=1&per_page=5`;
    let hops = 0;
    for (; next !== undefined && hops < MAX_PAGES; hops++) {
      const res = await fetch(next);
      ids.push(...((await res.json()) as PageBody).items.map((i) => i.id));
      const link = res.headers.get("link");
      next = link ? /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] : undefined;
      if (next !== undefined) expect(next.startsWith(`${s.url}/products?`)).toBe(true);
    }
    expect(hops).toBe(5);
    expect(ids).toEqual(range(23));
  });

  it("filters by since (strictly greater) in every style, and sees touched products", async () => {
    const s = await start({ products: 10 });
    const since = s.data.products[5]!.updated_at; // product 6
    const url = `${s.url}/products?since=${encodeURIComponent(since)}`;
    expect(await walkPages(url, 2)).toEqual([7, 8, 9, 10]);
    expect(await walkOffsets(url, 3)).toEqual([7, 8, 9, 10]);
    expect(await walkCursor(url, 3)).toEqual([7, 8, 9, 10]);

    const checkpoint = s.data.products[9]!.updated_at;
    s.touchProduct(3);
    expect(s.data.products[2]!.version).toBe(2);
    const changed = await getJson<PageBody>(`${s.url}/products?since=${encodeURIComponent(checkpoint)}`);
    expect(changed.items).toMatchObject([{ id: 3, version: 2 }]);
    // Ordered by updated_at, then id: the touched product moves to the end.
    expect(await walkCursor(`${s.url}/products`, 4)).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10, 3]);
    expect((await fetch(`${s.url}/products?since=yesterday`)).status).toBe(400);
  });

  it("serves child resources and 404s unknown parents and paths", async () => {
    const s = await start({ products: 3, featuresPerProduct: 5, testsPerFeature: 7 });
    expect(s.data.features).toHaveLength(15);
    expect(s.data.tests).toHaveLength(105);
    const feats = await walkPages(`${s.url}/products/2/features`, 2);
    expect(feats).toEqual([6, 7, 8, 9, 10]);
    const all = await getJson<{ items: { product_id: number; title: string; body: string }[] }>(
      `${s.url}/products/2/features`,
    );
    expect(all.items.every((f) => f.product_id === 2 && f.title.length > 0 && f.body.length > 0)).toBe(true);
    const tests = await walkCursor(`${s.url}/features/6/tests`, 3);
    expect(tests).toEqual(s.data.tests.filter((t) => t.feature_id === 6).map((t) => t.id));
    expect(tests).toHaveLength(7);
    const sinceTests = await walkOffsets(
      `${s.url}/features/6/tests?since=${encodeURIComponent(s.data.tests[37]!.updated_at)}`,
      2,
    );
    expect(sinceTests).toEqual([39, 40, 41, 42]);

    for (const path of ["/products/99/features", "/features/999/tests", "/nope", "/products/1"]) {
      const res = await fetch(`${s.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.json()).toEqual({ error: "not found" });
    }
    expect(s.stats.byStatus[404]).toBe(4);
  });
});

describe("fault server: injected faults", () => {
  it("makes every fault kind observable by a client", async () => {
    const s = await start();
    const plan: (Fault | undefined)[] = [
      { kind: "status", status: 503 },
      { kind: "429", retryAfter: "2" },
      { kind: "429" },
      { kind: "403-ratelimit", resetInSeconds: 60 },
      { kind: "reset" },
      { kind: "malformed" },
      { kind: "stall", ms: 5_000 },
      { kind: "stall", ms: 30 },
      undefined,
    ];
    const seen: number[] = [];
    s.setScript(({ n, path, method }) => {
      seen.push(n);
      expect(path).toBe("/products");
      expect(method).toBe("GET");
      return plan[n - 1];
    });
    const url = `${s.url}/products`;

    let res = await fetch(url);
    expect(res.status).toBe(503);
    res = await fetch(url);
    expect([res.status, res.headers.get("retry-after")]).toEqual([429, "2"]);
    res = await fetch(url);
    expect([res.status, res.headers.get("retry-after")]).toEqual([429, null]);
    res = await fetch(url);
    expect(res.status).toBe(403);
    expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
    const reset = Number(res.headers.get("x-ratelimit-reset"));
    expect(reset - Date.now() / 1000).toBeGreaterThan(58);
    expect(reset - Date.now() / 1000).toBeLessThanOrEqual(61);
    await expect(fetch(url)).rejects.toThrow(/fetch failed/);
    res = await fetch(url);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toBe('{"items": [');
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    const stalledAt = Date.now();
    await expect(fetch(url, { signal: AbortSignal.timeout(100) })).rejects.toThrow(/abort|timeout/i);
    expect(Date.now() - stalledAt).toBeLessThan(1_000);
    const shortStall = Date.now();
    res = await fetch(url);
    expect(res.status).toBe(200);
    expect(Date.now() - shortStall).toBeGreaterThanOrEqual(25);
    expect(((await res.json()) as PageBody).total).toBe(6);
    expect((await fetch(url)).status).toBe(200);

    expect(seen).toEqual(range(9));
    expect(s.stats).toMatchObject({ requests: 9, resets: 1, rateLimited: 0 });
    expect(s.stats.byPath["/products"]).toBe(9);
    // The abandoned 5 s stall is recorded once the server sees the client go away (pseudo-status 499).
    await expect.poll(() => s.stats.byStatus[499], { timeout: 1_000, interval: 10 }).toBe(1);
    expect(s.stats.byStatus).toEqual({ 200: 3, 403: 1, 429: 2, 499: 1, 503: 1 });
    expect(s.log.map((e) => e.status)).toEqual([503, 429, 429, 403, "reset", 200, 499, 200, 200]);

    s.resetStats();
    expect(s.stats).toEqual({
      requests: 0,
      byStatus: {},
      byPath: {},
      rateLimited: 0,
      resets: 0,
      embeddingInputs: 0,
    });
    expect(s.log).toHaveLength(0);
  });

  it("injects reproducible random faults from a seeded PRNG", async () => {
    const kinds: Fault[] = [
      { kind: "status", status: 500 },
      { kind: "status", status: 502 },
      { kind: "429", retryAfter: "1" },
    ];
    const statuses = async (s: FaultServer): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await fetch(`${s.url}/products?limit=1`)).status);
      return out;
    };
    const a = await start({ randomFaults: { rate: 0.5, kinds, seed: 7 } });
    const b = await start({ randomFaults: { rate: 0.5, kinds, seed: 7 } });
    const first = await statuses(a);
    expect(await statuses(b)).toEqual(first);
    const faulted = first.filter((x) => x !== 200).length;
    expect(faulted).toBeGreaterThan(5);
    expect(faulted).toBeLessThan(35);
    expect(new Set(first)).toEqual(new Set([200, 500, 502, 429]));

    // A script decision takes precedence; turning random faults off restores normal answers.
    b.setScript(() => ({ kind: "status", status: 504 }));
    expect((await fetch(`${b.url}/products`)).status).toBe(504);
    b.setScript(undefined);
    b.setRandomFaults(undefined);
    expect(await statuses(b)).toEqual(Array.from({ length: 40 }, () => 200));
  });

  it("enforces a fixed-window 429 rate limit and admits again after the window", async () => {
    let scriptCalls = 0;
    const s = await start({
      rateLimit: { requests: 3, windowMs: 300 },
      script: () => {
        scriptCalls++;
        return undefined;
      },
    });
    const url = `${s.url}/products`;
    for (let i = 0; i < 3; i++) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-ratelimit-limit")).toBe("3");
      expect(res.headers.get("x-ratelimit-remaining")).toBe(String(2 - i));
      expect(Number(res.headers.get("x-ratelimit-reset"))).toBeGreaterThanOrEqual(
        Math.floor(Date.now() / 1000),
      );
    }
    const limited = await fetch(url);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get("x-ratelimit-remaining")).toBe("0");
    expect((await fetch(url)).status).toBe(429);
    expect(s.stats).toMatchObject({ requests: 5, rateLimited: 2 });
    expect(scriptCalls).toBe(3); // rate-limited requests do not consume fault decisions

    await new Promise((r) => setTimeout(r, 350));
    const again = await fetch(url);
    expect(again.status).toBe(200);
    expect(again.headers.get("x-ratelimit-remaining")).toBe("2");
  });

  it("starts a window at its first request (reset rounded up), or with aligned at the epoch's multiples (reset exact)", () => {
    const reset = (l: FixedWindowLimiter, now: number): string => l.take(now).headers["x-ratelimit-reset"]!;
    const first = new FixedWindowLimiter({ requests: 2, windowMs: 1000 });
    expect(reset(first, 10_250)).toBe("12"); // the window runs 10.25 s – 11.25 s
    expect(first.take(11_000).reject).toBeUndefined();
    expect(first.take(11_200).reject?.status).toBe(429); // the third request in that window
    expect(first.take(11_250).reject).toBeUndefined(); // a new window starts here
    const aligned = new FixedWindowLimiter({ requests: 2, windowMs: 1000, aligned: true });
    expect(reset(aligned, 10_250)).toBe("11"); // the window runs 10 s – 11 s
    expect(aligned.take(10_999).headers["x-ratelimit-remaining"]).toBe("0");
    const next = aligned.take(11_000); // the next window, not the third request of the last
    expect(next.reject).toBeUndefined();
    expect(next.headers).toMatchObject({ "x-ratelimit-remaining": "1", "x-ratelimit-reset": "12" });
  });

  it("enforces the rate limit as 403 + X-RateLimit-* in 403 mode", async () => {
    const s = await start({ rateLimit: { requests: 2, windowMs: 60_000, mode: "403" } });
    expect((await fetch(`${s.url}/products`)).status).toBe(200);
    expect((await fetch(`${s.url}/products`)).status).toBe(200);
    const res = await fetch(`${s.url}/products`);
    expect(res.status).toBe(403);
    expect(res.headers.get("retry-after")).toBeNull();
    expect(res.headers.get("x-ratelimit-remaining")).toBe("0");
    const reset = Number(res.headers.get("x-ratelimit-reset"));
    expect(reset).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 58);
    expect(reset).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 60);
    expect(s.stats.rateLimited).toBe(1);
  });

  it("close() resolves promptly with a stall in flight", async () => {
    const s = await startFaultServer({ script: () => ({ kind: "stall", ms: 30_000 }) });
    const pending = fetch(`${s.url}/products`).then(
      (r) => r.status,
      () => "rejected",
    );
    await expect.poll(() => s.stats.requests, { timeout: 1_000, interval: 5 }).toBe(1);
    const t0 = Date.now();
    await s.close();
    expect(Date.now() - t0).toBeLessThan(500);
    expect(await pending).toBe("rejected");
    await s.close(); // idempotent
  });
});

describe("fault server: embeddings", () => {
  async function embedTexts(s: FaultServer, input: string | string[]): Promise<EmbeddingBody> {
    const res = await fetch(`${s.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "test-embed", input }),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as EmbeddingBody;
  }

  it("returns deterministic, normalised, meaningful bag-of-words vectors", async () => {
    const s = await start();
    const texts = [
      "checkout payment refund invoice",
      "Checkout, payment and refund!",
      "calendar reminder avatar keyboard",
    ];
    const a = await embedTexts(s, texts);
    expect(a).toMatchObject({ object: "list", model: "test-embed" });
    expect(a.data.map((d) => [d.object, d.index])).toEqual([
      ["embedding", 0],
      ["embedding", 1],
      ["embedding", 2],
    ]);
    expect(a.usage).toEqual({ prompt_tokens: 12, total_tokens: 12 });
    const [x, y, z] = a.data.map((d) => d.embedding) as [number[], number[], number[]];
    for (const v of [x, y, z]) {
      expect(v).toHaveLength(16);
      expect(Math.hypot(...v)).toBeCloseTo(1, 9);
    }
    expect(cosine(x, y)).toBeGreaterThan(cosine(x, z));
    expect(cosine(x, y)).toBeGreaterThan(0.6);

    const again = await embedTexts(s, texts[0]!);
    expect(again.data[0]!.embedding).toEqual(x);
    const other = await start({ embeddingDim: 64 });
    expect((await embedTexts(other, "x")).data[0]!.embedding).toHaveLength(64);
    expect(s.stats.embeddingInputs).toBe(4);
  });

  it("rejects bad bodies with 400 and answers 503 while embeddingsDown", async () => {
    const s = await start();
    const post = (body: string): Promise<Response> =>
      fetch(`${s.url}/v1/embeddings`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
      });
    for (const body of [
      "not json",
      "{}",
      '{"model":"m"}',
      '{"model":"m","input":[1]}',
      '{"model":"m","input":[]}',
    ]) {
      const res = await post(body);
      expect(res.status, body).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message.length).toBeGreaterThan(0);
    }
    s.embeddingsDown = true;
    expect((await post('{"model":"m","input":"hello"}')).status).toBe(503);
    s.embeddingsDown = false;
    expect((await post('{"model":"m","input":"hello"}')).status).toBe(200);
    expect(s.stats.embeddingInputs).toBe(1);
    expect((await fetch(`${s.url}/v1/embeddings`)).status).toBe(404);
  });
});
