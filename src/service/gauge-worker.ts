// The worker thread of GaugeThread: reads the SQLite ledger's gauges with a connection of its own, so the
// counting never runs on the thread the engine and the HTTP servers share.
import { parentPort, workerData } from "node:worker_threads";
import { errorMessage } from "../errors.js";
import { openLedger } from "../ledger/open-ledger.js";
import { readLedgerGauges, type JobPhases } from "./gauge-readings.js";

const { stateDir, jobs } = workerData as { stateDir: string; jobs: JobPhases };
const ledger = openLedger({ stateDir });
const port = parentPort!;
port.on("message", (id: number) => {
  readLedgerGauges(jobs, ledger).then(
    (samples) => port.postMessage({ id, samples }),
    (e: unknown) => port.postMessage({ id, error: errorMessage(e) }),
  );
});
