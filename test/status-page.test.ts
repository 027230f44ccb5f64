import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { openServices, type Services } from "../src/service/open-services.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { startWebServer, type WebServerHandle } from "../src/web/web-server.js";
import { ROOT, Workspace } from "./helpers/workspace.js";

const CHROMIUM = process.env.SYNCWARDEN_CHROMIUM ?? "/usr/bin/chromium";
const TOKEN = "status-page-test-token";
const FILES = 40;
/** Generous: the page follows events within a second; a loaded CI machine may be slower. */
const SEEN_MS = 20_000;

// the closed network refuses Chromium's background connections: these flags keep it from trying
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function config(url: string): string {
  return `sync: { max_retries: 0, retry_wait_seconds: 0, max_workers: 1 }
providers:
  embeddings:
    base_url: ${url}/v1
    retry: { max_attempts: 1, base_delay: 0.01, max_delay: 0.02 }
    breaker: { failure_threshold: 1, success_threshold: 1, timeout: 300, max_timeout: 600 }
    timeout: 5
jobs:
  notes:
    phases:
      - name: files
        source: { type: git, repo: ./repo }
        enrich: [{ type: openai-embeddings, provider: embeddings, model: test-embed, batch_size: 1 }]
        sink: { type: sqlite-docs, table: notes }
`;
}

/** A request with any headers (fetch may not set Host), answered with its status and body. */
function raw(
  url: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: o.method ?? "GET", headers: o.headers ?? {} }, (res) => {
      let body = "";
      res.on("data", (b: Buffer) => (body += b.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(o.body);
  });
}

const progressOf = async (page: Page): Promise<number> => {
  const text = await page.locator('#jobs tr[data-job="notes"] .progress').textContent();
  const m = /(\d+)\/\d+/.exec(text ?? "");
  return m ? Number(m[1]) : -1;
};

describe("status page in a real browser", () => {
  let ws: Workspace;
  let fault: FaultServer;
  let services: Services;
  let web: WebServerHandle;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  /** What beforeAll opened, closed in reverse order (however far it got). */
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set SYNCWARDEN_CHROMIUM to a Chromium binary`,
      );
    const assets = path.join(ROOT, "dist/web/client/app.js");
    if (!existsSync(assets)) throw new Error(`${assets} is missing: run npm run build first`);
    fault = await startFaultServer();
    cleanups.push(() => fault.close());
    ws = new Workspace();
    cleanups.push(() => ws.cleanup());
    const files: Record<string, string> = {};
    for (let i = 0; i < FILES; i++) files[`note-${i}.md`] = `note ${i} about glaciers`;
    ws.commit(files);
    ws.write("syncwarden.yaml", config(fault.url));
    services = openServices(loadConfig(ws.configFile), { progressIntervalMs: 200 });
    cleanups.push(() => services.close());
    web = await startWebServer(services, {
      port: 0,
      token: TOKEN,
      assetsDir: path.join(ROOT, "dist/web/client"),
      log: () => undefined,
    });
    cleanups.push(() => web.close());
    profile = mkdtempSync(path.join(tmpdir(), "syncwarden-chromium-"));
    cleanups.push(() => rmSync(profile, { recursive: true, force: true }));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
    cleanups.push(() => context.close());
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("shows a slow run's progress advancing live, pushed over SSE", async () => {
    fault.setScript(({ path: p }) => (p === "/v1/embeddings" ? { kind: "stall", ms: 150 } : undefined));
    await page.goto(`${web.url}?token=${TOKEN}`);
    await expect.poll(() => page.locator("#live").textContent(), { timeout: SEEN_MS }).toBe("live");
    const run = services.sync.execute({ job: "notes", trigger: "api" });
    await expect.poll(() => progressOf(page), { timeout: SEEN_MS }).toBeGreaterThan(0);
    const first = await progressOf(page);
    // no reload in between: the numbers come from progress events
    await expect.poll(() => progressOf(page), { timeout: SEEN_MS }).toBeGreaterThan(first);
    const result = await run;
    expect(result.status).toBe("completed");
    await expect
      .poll(() => page.locator('#jobs tr[data-job="notes"] td:nth-child(2)').textContent(), {
        timeout: SEEN_MS,
      })
      .toBe("completed");
    fault.setScript(undefined);
  }, 60_000);

  it("shows the breaker open when the fault server fails, closed after a click on reset; a dead item completes after retry", async () => {
    ws.commit({ "note-1.md": "changed 1", "note-2.md": "changed 2", "note-3.md": "changed 3" });
    fault.embeddingsDown = true;
    const run = services.sync.execute({ job: "notes", trigger: "api" });
    const breaker = page.locator('#breakers tr[data-provider="embeddings"] .state');
    await expect.poll(() => breaker.textContent(), { timeout: SEEN_MS }).toBe("open");
    // the item whose call failed has no retries left (max_retries: 0): it is dead, with its error
    const dead = page.locator("#items tbody tr");
    await expect.poll(() => dead.count(), { timeout: SEEN_MS }).toBe(1);
    expect(await dead.first().textContent()).toMatch(/DEAD/);
    expect(await dead.first().locator("td.error").textContent()).toMatch(/\S/);

    fault.embeddingsDown = false;
    await page.locator('#breakers tr[data-provider="embeddings"] button[data-action="reset"]').click();
    await expect.poll(() => breaker.textContent(), { timeout: SEEN_MS }).toBe("closed");
    const partial = await run;
    expect(partial.status).toBe("partial");
    await expect
      .poll(() => page.locator('#jobs tr[data-job="notes"] td:nth-child(2)').textContent(), {
        timeout: SEEN_MS,
      })
      .toBe("partial");
    await expect
      .poll(() => page.locator('#jobs tr[data-job="notes"] td:nth-child(7)').textContent(), {
        timeout: SEEN_MS,
      })
      .toBe("1");
    // the last hour's chart has the failure as an error bar and a line of items/s; the doctor's checks are listed
    await expect.poll(() => page.locator("#chart rect.err").count(), { timeout: SEEN_MS }).toBeGreaterThan(0);
    expect(await page.locator("#chart polyline.ips").count()).toBe(1);
    expect(await page.locator("#doctor li").count()).toBeGreaterThan(3);
    expect(await page.locator("#doctor").textContent()).toMatch(/database-integrity/);
    await page.screenshot({ path: path.join(ROOT, "docs/status-page.png"), fullPage: true });

    await dead.first().locator('button[data-action="retry"]').click();
    await expect.poll(() => dead.count(), { timeout: SEEN_MS }).toBe(0);
    const next = await services.sync.execute({ job: "notes", trigger: "api" });
    expect(next.status).toBe("completed");
    await expect
      .poll(() => page.locator('#jobs tr[data-job="notes"] td:nth-child(2)').textContent(), {
        timeout: SEEN_MS,
      })
      .toBe("completed");
    expect(await page.locator('#jobs tr[data-job="notes"] td:nth-child(7)').textContent()).toBe("0");
    const left = await services.sync.items("notes", { statuses: ["FAILED", "DEAD", "PENDING"], limit: 10 });
    expect(left).toEqual([]);
  }, 60_000);

  it("refuses the page, its JSON, its events and every action without the token (401), and a foreign Host or Origin (403)", async () => {
    const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
      raw(web.url.replace(/\/$/, p), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    for (const p of ["/", "/app.js", "/api/state", "/api/items", "/api/chart", "/api/doctor", "/events"])
      expect((await raw(web.url.replace(/\/$/, p))).status, p).toBe(401);
    expect((await raw(`${web.url}?token=wrong`)).status).toBe(401);
    expect((await post("/api/retry", { job: "notes" })).status).toBe(401);
    expect((await post("/api/breaker", { name: "embeddings", action: "isolate" })).status).toBe(401);
    expect(
      (await post("/api/breaker", { name: "embeddings", action: "reset" }, { cookie: "syncwarden_web=nope" }))
        .status,
    ).toBe(401);

    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await raw(web.url, { headers: { ...auth, host: "evil.example" } })).status).toBe(403);
    expect(
      (
        await post(
          "/api/breaker",
          { name: "embeddings", action: "isolate" },
          { ...auth, origin: "http://evil.example" },
        )
      ).status,
    ).toBe(403);
    // actions are POST only, with a JSON body
    expect((await raw(web.url.replace(/\/$/, "/api/retry"), { headers: auth })).status).toBe(405);
    expect(
      (await raw(web.url.replace(/\/$/, "/api/retry"), { method: "POST", headers: auth, body: "job=notes" }))
        .status,
    ).toBe(415);
    const providers = (await services.sync.providerHealth()).find((p) => p.provider === "embeddings");
    expect(providers?.breaker.isolated).toBe(false);

    // a browser without the cookie sees the refusal, not the page
    await context.clearCookies();
    const res = await page.goto(web.url);
    expect(res?.status()).toBe(401);
  }, 60_000);
});
