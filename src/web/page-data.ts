import type { ItemRow } from "../service/sync-service.js";
import type { Services } from "../service/open-services.js";
import type { JobStatus, ProviderHealth } from "../service/status.js";
import type { ReplicaTargetStatus } from "../service/replica-service.js";
import type { Progress } from "../results.js";
import { UsageError } from "../errors.js";

/** What the page reads: the services, nothing below them. */
export type WebServices = Pick<Services, "sync" | "replicas" | "health" | "events">;

/** When the daemon serving the page next starts a job (epoch ms); null when the job has no schedule or no future start. */
export type NextRunOf = (job: string) => Promise<number | null>;

/** The page's first JSON: jobs (with live progress of runs in this process), breakers and gates, replicas. */
export interface PageState {
  generatedAt: string;
  /** nextRunAt: the daemon's next start of the job (ISO), null when no daemon serves the page or the job has no schedule. */
  jobs: (JobStatus & { running: Progress[]; failed: number; dead: number; nextRunAt: string | null })[];
  providers: ProviderHealth[];
  replicas: ReplicaTargetStatus[];
}

export async function pageState(s: WebServices, nextRun?: NextRunOf): Promise<PageState> {
  const jobs = await s.sync.status();
  const next = await Promise.all(jobs.map(async (j) => (nextRun ? await nextRun(j.job) : null)));
  return {
    generatedAt: new Date().toISOString(),
    jobs: jobs.map((j, i) => {
      const running = s.sync.running(j.job);
      let failed = 0;
      let dead = 0;
      for (const p of j.phases) {
        failed += p.items?.FAILED ?? 0;
        dead += p.items?.DEAD ?? 0;
      }
      const at = next[i] ?? null;
      return {
        ...j,
        running: running ? [running] : [],
        failed,
        dead,
        nextRunAt: at === null ? null : new Date(at).toISOString(),
      };
    }),
    providers: await s.sync.providerHealth(),
    replicas: await s.replicas.status(),
  };
}

/** One page of FAILED and DEAD items (id order, after the cursor `after`), and the next cursor. */
export interface ItemsPage {
  items: Pick<
    ItemRow,
    "id" | "job" | "phase" | "key" | "status" | "attempts" | "errorClass" | "errorMessage" | "updatedAt"
  >[];
  next: number | null;
}

export const MAX_PAGE = 200;

export async function failedItems(
  s: WebServices,
  q: { job?: string; after: number; limit: number },
): Promise<ItemsPage> {
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_PAGE)
    throw new UsageError(`limit must be a whole number from 1 to ${MAX_PAGE}, got ${q.limit}`);
  if (!Number.isInteger(q.after) || q.after < 0)
    throw new UsageError(`after must be an item id (a whole number), got ${q.after}`);
  const items: ItemsPage["items"] = [];
  let more = false;
  // the ledger streams in id order from the cursor, a page at a time: any page costs the same
  for await (const r of s.sync.failed(q.job, q.after)) {
    if (items.length === q.limit) {
      more = true;
      break;
    }
    items.push({
      id: r.id,
      job: r.job,
      phase: r.phase,
      key: r.key,
      status: r.status,
      attempts: r.attempts,
      errorClass: r.errorClass,
      errorMessage: r.errorMessage,
      updatedAt: r.updatedAt,
    });
  }
  return { items, next: more ? items.at(-1)!.id : null };
}

/** Per minute of the last hour: the best items/s a running phase reported, and items that failed. */
export interface ChartPoint {
  minute: number;
  itemsPerSecond: number;
  errors: number;
}

export async function activityChart(s: WebServices, now = Date.now()): Promise<ChartPoint[]> {
  const start = Math.floor((now - 3_600_000) / 60_000) * 60_000;
  const points: ChartPoint[] = [];
  for (let m = start; m <= now; m += 60_000) points.push({ minute: m, itemsPerSecond: 0, errors: 0 });
  const records = await s.sync.eventLog({ since: start, limit: 50_000 });
  for (const r of records) {
    const p = points[Math.floor((r.ts - start) / 60_000)];
    if (!p) continue;
    if (r.type === "item:failed") p.errors += 1;
    else if (r.type === "progress") {
      const ips = (r.data as { itemsPerSecond?: unknown } | undefined)?.itemsPerSecond;
      if (typeof ips === "number") p.itemsPerSecond = Math.max(p.itemsPerSecond, ips);
    }
  }
  return points;
}
