// Section 2 (child process): `node bench/memory-child.mjs engine N` plans and completes N no-op items;
// `node bench/memory-child.mjs ledger` only opens the SQLite ledger (the floor). Either prints one JSON
// line with its peak RSS (process.resourceUsage().maxRSS, KiB) at the end.
import path from "node:path";
import { cleanEnv, emitResult, log, now, removeDir, tempDir, writeNoopConfig } from "./lib.mjs";
import { loadConfig, openLedger, SyncService } from "../dist/index.js";

const [mode = "engine", nArg = "1000000"] = process.argv.slice(2);
const dir = tempDir(`mem-${mode}`);
try {
  if (mode === "ledger") {
    const ledger = openLedger({ stateDir: path.join(dir, "state") });
    await ledger.close();
    emitResult({ mode, maxRssKiB: process.resourceUsage().maxRSS });
  } else if (mode === "engine") {
    const n = Number(nArg);
    const loaded = loadConfig(writeNoopConfig(dir, n, 4), cleanEnv());
    const service = SyncService.open(loaded);
    const t0 = now();
    const result = await service.execute({ job: "bench", trigger: "api" });
    const ms = now() - t0;
    await service.close();
    const completed = result.phases[0]?.completed ?? 0;
    if (result.status !== "completed" || completed !== n) {
      throw new Error(`engine run did not complete ${n} items: ${JSON.stringify(result)}`);
    }
    log(`memory: ${n} items in ${(ms / 1000).toFixed(1)}s`);
    emitResult({ mode, items: n, executeMs: ms, maxRssKiB: process.resourceUsage().maxRSS });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
} finally {
  removeDir(dir);
}
