import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { GaugeSample, JobPhases } from "./gauge-readings.js";

const WORKER = new URL("./gauge-worker.js", import.meta.url);

type Reply = { id: number; samples: GaugeSample[] } | { id: number; error: string };

/**
 * Reads a SQLite ledger's gauges on a worker thread with a read connection of its own: a scrape's counting
 * (milliseconds at 100,000s of items) runs beside the engine, not on its thread. Started at the first read;
 * it holds the process open only while a read is waiting.
 */
export class GaugeThread {
  private worker: Worker | undefined;
  private next = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (s: GaugeSample[]) => void; reject: (e: Error) => void }
  >();

  /** Whether the worker's compiled script is there (it is in the build; not when running from sources). */
  static available(): boolean {
    return existsSync(fileURLToPath(WORKER));
  }

  constructor(
    private readonly stateDir: string,
    private readonly jobs: JobPhases,
  ) {}

  read(): Promise<GaugeSample[]> {
    const worker = (this.worker ??= this.start());
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage(id);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.fail(new Error("the metrics were closed"));
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(WORKER, { workerData: { stateDir: this.stateDir, jobs: this.jobs } });
    worker.on("message", (m: Reply) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) worker.unref();
      if (!w) return;
      if ("error" in m) w.reject(new Error(`reading the ledger's gauges: ${m.error}`));
      else w.resolve(m.samples);
    });
    const gone = (e: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      this.fail(e);
    };
    worker.on("error", gone);
    worker.on("exit", (code) => gone(new Error(`the gauge reader thread exited (code ${code})`)));
    return worker;
  }

  private fail(e: Error): void {
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }
}
