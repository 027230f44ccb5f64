import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load-config.js";
import { openServices, type Services } from "../src/service/open-services.js";
import { startFaultServer, type FaultServer } from "../src/testing/fault-server.js";
import { startListening, type ListeningCli } from "./helpers/listening-cli.js";
import { ROOT, Workspace } from "./helpers/workspace.js";

const CHROMIUM = process.env.SYNCWARDEN_CHROMIUM ?? "/usr/bin/chromium";
const TOKEN = "status-page-test-token";
/** Enough stalled embedding calls that the daemon's run is still going when the fault server goes down. */
const FILES = 80;
const STALL_MS = 250;
/** Generous: the page follows events within a second; a loaded CI machine may be slower. */
const SEEN_MS = 20_000;
/**
 * Generous: the daemon starts a job at most once a minute (whatever its schedule), so the run after a
 * retry comes up to a minute after the previous one started.
 */
const NEXT_RUN_MS = 120_000;

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
    schedule: { every: 5s }
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

/** The daemon's JSON log lines of one event. */
function logged(daemon: ListeningCli, event: string): Record<string, unknown>[] {
  return daemon
    .stderr()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.event === event);
}

describe("status page of a running daemon, in a real browser", () => {
  let ws: Workspace;
  let fault: FaultServer;
  let daemon: ListeningCli;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  /** What beforeAll opened, closed in reverse order (however far it got). */
  const cleanups: (() => unknown)[] = [];

  /** The workspace's ledger, opened beside the daemon's, for what the test checks (not the daemon's memory). */
  async function ledger<T>(read: (s: Services) => Promise<T>): Promise<T> {
    const s = openServices(loadConfig(ws.configFile));
    try {
      return await read(s);
    } finally {
      await s.close();
    }
  }

  const jobCell = (n: number) => page.locator(`#jobs tr[data-job="notes"] td:nth-child(${n})`);

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
    // every embedding call stalls: the daemon's first run is slow enough to watch
    fault.setScript(({ path: p }) => (p === "/v1/embeddings" ? { kind: "stall", ms: STALL_MS } : undefined));
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
    // the job has never completed: the daemon starts it at once
    daemon = await startListening(["daemon", "--web-port", "0", "--log-format", "json"], ws.dir, {
      SYNCWARDEN_WEB_TOKEN: TOKEN,
    });
    cleanups.push(() => {
      if (daemon.child.exitCode === null) daemon.child.kill("SIGKILL");
    });
  }, 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("shows the daemon's slow run advancing live (SSE), its breaker opening when the fault server fails, closed after a click on reset", async () => {
    await page.goto(`${daemon.url}?token=${TOKEN}`);
    await expect.poll(() => page.locator("#live").textContent(), { timeout: SEEN_MS }).toBe("live");
    await expect.poll(() => progressOf(page), { timeout: SEEN_MS }).toBeGreaterThan(0);
    const first = await progressOf(page);
    // no reload in between: the numbers come from the daemon's progress events
    await expect.poll(() => progressOf(page), { timeout: SEEN_MS }).toBeGreaterThan(first);
    expect(await progressOf(page)).toBeLessThan(FILES);

    fault.embeddingsDown = true;
    const breaker = page.locator('#breakers tr[data-provider="embeddings"] .state');
    await expect.poll(() => breaker.textContent(), { timeout: SEEN_MS }).toBe("open");
    // the item whose call failed has no retries left (max_retries: 0): it is dead, with its error
    const dead = page.locator("#items tbody tr");
    await expect.poll(() => dead.count(), { timeout: SEEN_MS }).toBe(1);
    expect(await dead.first().textContent()).toMatch(/DEAD/);
    expect(await dead.first().locator("td.error").textContent()).toMatch(/\S/);
    const open = await ledger((s) => s.sync.providerHealth());
    expect(open.find((p) => p.provider === "embeddings")?.breaker.state).toBe("open");

    // the rest of the run waits on the open breaker; reset wakes it
    fault.embeddingsDown = false;
    fault.setScript(undefined);
    await page.locator('#breakers tr[data-provider="embeddings"] button[data-action="reset"]').click();
    await expect.poll(() => breaker.textContent(), { timeout: SEEN_MS }).toBe("closed");
    await expect.poll(() => jobCell(2).textContent(), { timeout: SEEN_MS }).toBe("partial");
    await expect.poll(() => jobCell(7).textContent(), { timeout: SEEN_MS }).toBe("1");
    // the last hour's chart has the failure as an error bar and a line of items/s; the doctor's checks are listed
    await expect.poll(() => page.locator("#chart rect.err").count(), { timeout: SEEN_MS }).toBeGreaterThan(0);
    expect(await page.locator("#chart polyline.ips").count()).toBe(1);
    await expect.poll(() => page.locator("#doctor li").count(), { timeout: SEEN_MS }).toBeGreaterThan(3);
    expect(await page.locator("#doctor").textContent()).toMatch(/database-integrity/);

    const runs = await ledger((s) => s.sync.history("notes", 10));
    expect(runs.map((r) => [r.trigger, r.status])).toEqual([["daemon", "partial"]]);
    const items = await ledger((s) => s.sync.items("notes", { statuses: ["DEAD"], limit: 10 }));
    expect(items).toHaveLength(1);
  }, 90_000);

  it(
    "shows when the daemon runs the job next; a dead item retried from the page completes in that run",
    async () => {
      // the page's next run is the daemon's own (its log names the same second)
      await expect.poll(() => logged(daemon, "job:end").length, { timeout: SEEN_MS }).toBe(1);
      const ended = logged(daemon, "job:end");
      const state = JSON.parse(
        (
          await raw(daemon.url.replace(/\/$/, "/api/state"), {
            headers: { authorization: `Bearer ${TOKEN}` },
          })
        ).body,
      ) as { jobs: { job: string; nextRunAt: string | null }[] };
      const nextRunAt = state.jobs.find((j) => j.job === "notes")?.nextRunAt;
      expect(nextRunAt?.replace(/\.\d{3}Z$/, "Z")).toBe(ended[0]!.nextRunAt);
      const shown = await page.evaluate((iso) => new Date(iso).toLocaleString(), nextRunAt!);
      await expect.poll(() => jobCell(8).textContent(), { timeout: SEEN_MS }).toBe(shown);
      await page.screenshot({ path: path.join(ROOT, "docs/status-page.png"), fullPage: true });

      const dead = page.locator("#items tbody tr");
      await dead.first().locator('button[data-action="retry"]').click();
      await expect.poll(() => dead.count(), { timeout: SEEN_MS }).toBe(0);
      expect(
        await ledger((s) => s.sync.items("notes", { statuses: ["PENDING"], limit: 10 })).then(
          (i) => i.length,
        ),
      ).toBe(1);
      // the daemon's next run picks the retried item up
      await expect.poll(() => jobCell(2).textContent(), { timeout: NEXT_RUN_MS }).toBe("completed");
      expect(await jobCell(7).textContent()).toBe("0");
      const left = await ledger((s) =>
        s.sync.items("notes", { statuses: ["FAILED", "DEAD", "PENDING"], limit: 10 }),
      );
      expect(left).toEqual([]);
      const runs = await ledger((s) => s.sync.history("notes", 10));
      expect(runs.map((r) => [r.trigger, r.status])).toEqual([
        ["daemon", "completed"],
        ["daemon", "partial"],
      ]);
    },
    NEXT_RUN_MS + 30_000,
  );

  it("refuses the page, its JSON, its events and every action without the token (401), and a foreign Host or Origin (403)", async () => {
    const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
      raw(daemon.url.replace(/\/$/, p), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
    for (const p of ["/", "/app.js", "/api/state", "/api/items", "/api/chart", "/api/doctor", "/events"])
      expect((await raw(daemon.url.replace(/\/$/, p))).status, p).toBe(401);
    expect((await raw(`${daemon.url}?token=wrong`)).status).toBe(401);
    expect((await post("/api/retry", { job: "notes" })).status).toBe(401);
    expect((await post("/api/breaker", { name: "embeddings", action: "isolate" })).status).toBe(401);
    expect(
      (await post("/api/breaker", { name: "embeddings", action: "reset" }, { cookie: "syncwarden_web=nope" }))
        .status,
    ).toBe(401);

    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await raw(daemon.url, { headers: { ...auth, host: "evil.example" } })).status).toBe(403);
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
    expect((await raw(daemon.url.replace(/\/$/, "/api/retry"), { headers: auth })).status).toBe(405);
    expect(
      (
        await raw(daemon.url.replace(/\/$/, "/api/retry"), {
          method: "POST",
          headers: auth,
          body: "job=notes",
        })
      ).status,
    ).toBe(415);
    const providers = await ledger((s) => s.sync.providerHealth());
    expect(providers.find((p) => p.provider === "embeddings")?.breaker.isolated).toBe(false);

    // a browser without the cookie sees the refusal, not the page
    await context.clearCookies();
    const res = await page.goto(daemon.url);
    expect(res?.status()).toBe(401);
  }, 60_000);

  it("stops the daemon on SIGTERM with exit 0, its token never in its log", async () => {
    daemon.child.kill("SIGTERM");
    expect(await daemon.exited).toBe(0);
    expect(logged(daemon, "daemon:stop")).toHaveLength(1);
    expect(daemon.stderr()).not.toContain(TOKEN);
  }, 60_000);
});
