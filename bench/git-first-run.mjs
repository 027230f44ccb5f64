// Section 3 (child process): `node bench/git-first-run.mjs CONFIG N` runs the git job's first run
// (every file fetched and indexed) and then an in-process no-change rerun, each with its own peak RSS.
import { cleanEnv, emitResult, now, peakRssKiB, resetPeakRss } from "./lib.mjs";
import { loadConfig, SyncService } from "../dist/index.js";

const [file, nArg] = process.argv.slice(2);
const n = Number(nArg);
const service = SyncService.open(loadConfig(file, cleanEnv()));

resetPeakRss();
let t0 = now();
const first = await service.execute({ job: "index", trigger: "api" });
const firstMs = now() - t0;
const firstPeak = peakRssKiB();
const phase = first.phases[0];
if (first.status !== "completed" || phase?.completed !== n) {
  throw new Error(`first run did not complete ${n} files: ${JSON.stringify(first)}`);
}
const [status] = await service.status("index");
const documents = status.documents;
if (documents !== n) throw new Error(`first run stored ${documents} documents, expected ${n}`);

resetPeakRss();
t0 = now();
const again = await service.execute({ job: "index", trigger: "api" });
const againMs = now() - t0;
const againPeak = peakRssKiB();
if (again.status !== "completed" || (again.phases[0]?.total ?? 0) !== 0) {
  throw new Error(`no-change rerun was expected to plan nothing: ${JSON.stringify(again)}`);
}
await service.close();
emitResult({
  first: { ms: firstMs, peakRssKiB: firstPeak, completed: phase.completed },
  rerunInProcess: { ms: againMs, peakRssKiB: againPeak },
});
