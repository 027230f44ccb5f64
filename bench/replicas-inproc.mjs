// Section 6 child: `ReplicaService.replicate()` from the library inside one long-lived process (as the daemon or an app
// runs it), so Node's start and module loading are paid once: one warm-up run, then `reruns` runs with no
// change and `rounds` rounds after `changes` files changed on each side. Prints one JSON line.
import path from "node:path";
import { loadConfig, ReplicaService } from "../dist/index.js";
import { change } from "./replicas.mjs";

const [config, files, changes, reruns, rounds, firstRound] = process.argv
  .slice(2)
  .map((a, i) => (i === 0 ? a : Number(a)));
const loaded = loadConfig(config);
const replicas = ReplicaService.open(loaded);
const dir = path.dirname(config);

async function run(expectCopied) {
  const t = performance.now();
  const {
    targets: [r],
  } = await replicas.replicate({});
  const ms = performance.now() - t;
  if (r.status !== "ok" || r.copied !== expectCopied || r.errors.length > 0)
    throw new Error(
      `replicate: ${JSON.stringify({ status: r.status, copied: r.copied, errors: r.errors.slice(0, 3) })}`,
    );
  return ms;
}

await run(0); // warm-up: JIT, the ledger's statements
const noChange = [];
for (let i = 0; i < reruns; i++) noChange.push(await run(0));
const changed = [];
for (let round = firstRound; round < firstRound + rounds; round++) {
  change({ a: path.join(dir, "a"), b: path.join(dir, "b") }, files, changes, round);
  changed.push(await run(2 * changes));
}
await replicas.close();
process.stdout.write(JSON.stringify({ noChange, changed }) + "\n");
