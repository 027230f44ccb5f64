// Section 7 of the bench: vector search at 100,000 chunks × 384 dimensions, in the ledger's SQLite file.
//   KNN through sqlite-vec (vec0, what `search --semantic` runs)  vs the exact linear scan it replaces
//   hybrid (bm25 + KNN, reciprocal-rank fusion, what `search --hybrid` runs minus embedding the query)
// plus writing the documents with the index kept in step vs without it (items/s), and peak RSS per phase.
// Run alone: `node bench/vector-search.mjs` (after `npm run build`); prints one JSON line on stdout.
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  DIST,
  benchScale,
  emitResult,
  log,
  now,
  peakRssKiB,
  random,
  removeDir,
  resetPeakRss,
  tempDir,
} from "./lib.mjs";

const DIM = 384;
const LIMIT = 10;
const QUERIES = 40;
const BATCH = 1000;
const WORDS = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}`);


const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function fill(docs, n, seed) {
  const rnd = random(seed);
  const started = now();
  for (let at = 0; at < n; at += BATCH) {
    const writes = [];
    for (let i = at; i < Math.min(n, at + BATCH); i++) {
      const words = Array.from({ length: 12 }, () => WORDS[Math.floor(rnd() ** 2 * WORDS.length)]);
      const values = Array.from({ length: DIM }, () => rnd() * 2 - 1);
      writes.push({
        kind: "upsert",
        job: "bench",
        collection: "code",
        key: `src/file-${i}.ts`,
        version: "1",
        content: words.join(" "),
        vector: { model: "bench-384", values },
      });
    }
    await docs.write(writes);
  }
  return now() - started;
}

async function timed(fn) {
  const ms = [];
  resetPeakRss();
  for (let q = 0; q < QUERIES; q++) {
    const t = now();
    await fn(q);
    ms.push(now() - t);
  }
  return { p50Ms: percentile(ms, 50), p95Ms: percentile(ms, 95), queries: QUERIES, peakRssKiB: peakRssKiB() };
}

export async function main() {
  const chunks = Math.max(1000, Math.round(100_000 * benchScale()));
  const { openSqliteLedger } = await import(
    pathToFileURL(path.join(DIST, "ledger/sqlite/sqlite-ledger.js")).href
  );
  const { fuseRanks } = await import(pathToFileURL(path.join(DIST, "service/rank-fusion.js")).href);
  const dir = tempDir("vectors");
  try {
    // the write-side peer: the same documents without the index (the extension "missing")
    const plain = openSqliteLedger(path.join(dir, "plain.db"), {
      loadVectorExtension: () => {
        throw new Error("bench: no index");
      },
    });
    const plainMs = await fill(plain.documents, chunks, 1);
    await plain.close();
    log(
      `[7] ${chunks} chunks × ${DIM} written without the index: ${(chunks / (plainMs / 1000)).toFixed(0)}/s`,
    );

    resetPeakRss();
    const ledger = openSqliteLedger(path.join(dir, "state.db"));
    const docs = ledger.documents;
    const indexedMs = await fill(docs, chunks, 1);
    const writeRss = peakRssKiB();
    log(`[7] written with the vec0 index in step: ${(chunks / (indexedMs / 1000)).toFixed(0)}/s`);

    const rnd = random(99);
    const queries = Array.from({ length: QUERIES }, () => Array.from({ length: DIM }, () => rnd() * 2 - 1));
    const texts = Array.from({ length: QUERIES }, () => WORDS[Math.floor(rnd() ** 2 * 200)]);
    let agree = 0;
    const knn = await timed(async (q) => docs.semanticSearch(queries[q], { limit: LIMIT }));
    log(`[7] KNN p50 ${knn.p50Ms.toFixed(1)} ms, p95 ${knn.p95Ms.toFixed(1)} ms`);
    const linear = await timed(async (q) => docs.linearSearch(queries[q], { limit: LIMIT }));
    log(`[7] linear scan p50 ${linear.p50Ms.toFixed(1)} ms, p95 ${linear.p95Ms.toFixed(1)} ms`);
    for (let q = 0; q < 5; q++) {
      const a = (await docs.semanticSearch(queries[q], { limit: LIMIT })).map((h) => h.key).join();
      const b = docs
        .linearSearch(queries[q], { limit: LIMIT })
        .map((h) => h.key)
        .join();
      if (a === b) agree++;
    }
    const depth = Math.max(LIMIT * 5, 50);
    const id = (h) => `${h.job}\u0000${h.collection}\u0000${h.key}`;
    const hybrid = await timed(async (q) => {
      const words = await docs.search(texts[q], { limit: depth });
      const near = await docs.semanticSearch(queries[q], { limit: depth });
      return fuseRanks([words, near], id).slice(0, LIMIT);
    });
    log(`[7] hybrid p50 ${hybrid.p50Ms.toFixed(1)} ms, p95 ${hybrid.p95Ms.toFixed(1)} ms`);
    await ledger.close();
    return {
      chunks,
      dim: DIM,
      limit: LIMIT,
      write: {
        indexedPerSecond: chunks / (indexedMs / 1000),
        plainPerSecond: chunks / (plainMs / 1000),
        peakRssKiB: writeRss,
      },
      knn,
      linear,
      hybrid,
      knnSpeedup: linear.p50Ms / knn.p50Ms,
      knnAgreesWithLinear: `${agree}/5`,
    };
  } finally {
    removeDir(dir);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) emitResult(await main());
