// Section 5 (child process): per-call cost of the policy stack, three ways in this one process:
//   ours      `policy.execute(async () => 1)`: ProviderPolicy with the default provider settings
//             (retry, closed breaker, timeout; its rate gate and bulkhead are always on the path),
//             state on the SQLite ledger in a temp file, no HTTP
//   cockatiel wrap(retry, circuitBreaker, timeout) executing `async () => 1`
//   floor     `async () => 1` awaited directly
// Each round runs the three back to back (the order rotates each round), N sequential awaits each,
// after one warm-up pass. Usage: node --expose-gc bench/overhead.mjs N ROUNDS [only]
// (`only` = ours | cockatiel | floor runs just that one, e.g. under --cpu-prof).
import path from "node:path";
import {
  ConsecutiveBreaker,
  ExponentialBackoff,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  retry,
  timeout,
  wrap,
} from "cockatiel";
import { emitResult, log, now, removeDir, tempDir } from "./lib.mjs";
import { openLedger } from "../dist/index.js";
import { ProviderPolicy } from "../dist/resilience/policy.js";
import { policyOptions } from "../dist/resilience/providers.js";
import { providerSchema } from "../dist/config/provider-schema.js";
import { syncSchema } from "../dist/config/schema.js";

const N = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 5);
const ONLY = process.argv[4];
const WARMUP = Math.min(N, 20_000);

const gc = globalThis.gc ?? (() => undefined);
const one = async () => 1;

const dir = tempDir("overhead");
const ledger = openLedger({ stateDir: dir });
try {
  // a provider block with every setting at its default: what `providers: { x: {} }` gives a user
  const options = policyOptions(providerSchema.parse({}), syncSchema.parse({}), true);
  const policy = new ProviderPolicy("bench", ledger.resilience, options, `bench:${process.pid}`);
  await policy.breaker.reset(); // a stored, closed breaker row (as after any earlier transition)

  const cockatiel = wrap(
    retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
    timeout(30_000, TimeoutStrategy.Cooperative),
  );

  const contenders = {
    floor: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await one();
      return sum;
    },
    cockatiel: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await cockatiel.execute(one);
      return sum;
    },
    ours: async (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await policy.execute(one);
      return sum;
    },
  };
  const names = ONLY ? [ONLY] : Object.keys(contenders);
  if (names.some((k) => !contenders[k])) throw new Error(`unknown contender ${ONLY}`);

  const time = async (name, n) => {
    // one event-loop turn, then a full GC: objects a previous run kept alive until the loop turned
    // (WeakRef targets, e.g. AbortSignal.timeout's signals) are not charged to the next run
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    const t0 = now();
    const sum = await contenders[name](n);
    const ms = now() - t0;
    if (sum !== n) throw new Error(`${name}: expected ${n} results, got ${sum}`);
    return ms;
  };

  for (const name of names) await time(name, WARMUP);
  const perRound = [];
  for (let r = 0; r < ROUNDS; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length]);
    const round = { order };
    for (const name of order) round[name] = ((await time(name, N)) * 1e6) / N; // ns per call
    perRound.push(round);
    log(
      `overhead round ${r + 1}/${ROUNDS}: ` +
        names.map((k) => `${k} ${Math.round(round[k]).toLocaleString("en-US")} ns/call`).join(", "),
    );
  }
  emitResult({
    calls: N,
    warmup: WARMUP,
    rounds: ROUNDS,
    policyOptions: options,
    perRound,
    maxRssKiB: process.resourceUsage().maxRSS,
  });
} finally {
  await ledger.close();
  removeDir(dir);
}
