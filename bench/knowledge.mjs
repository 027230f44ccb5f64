// Section 11 of the bench: the knowledge store at 10,000 episodes / 100,000 facts (issue 17), filled through
// the store's own writes (KnowledgeWrites beside each episode's document, as the memory sink writes them):
//   keyword (bm25 over episodes, entities, facts), vector (episodes by the documents' vector index),
//   graph (neighbours within 1 and 2 hops), fused (episode keyword + vector, reciprocal-rank fusion): p50/p95
// on the SQLite ledger, and on PostgreSQL when BENCH_KNOWLEDGE includes it (a throwaway cluster, as section 10).
// Run alone: `node bench/knowledge.mjs` (after `npm run build`); prints one JSON line on stdout.
// BENCH_SCALE scales the episode count; BENCH_KNOWLEDGE=sqlite,postgres picks the ledgers (default sqlite).
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DIST, benchScale, emitResult, log, now, peakRssKiB, random, removeDir, tempDir } from "./lib.mjs";

const DIM = 384;
const LIMIT = 10;
const QUERIES = 60;
const BATCH = 50;
const FACTS_PER_EPISODE = 10;
const ENTITIES_PER_EPISODE = 8;
const ENTITY_NAMES = 20_000;
const TYPES = ["file", "function", "library", "error", "decision", "repository", "command", "person"];
const RELATIONS = [
  "uses",
  "calls",
  "imports",
  "fixes",
  "raises",
  "depends_on",
  "edits",
  "reads",
  "tests",
  "mentions",
];
const WORDS = Array.from({ length: 3000 }, (_, i) => `w${i.toString(36)}`);

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** An entity by index: a name and a type that stay the same for the index (so episodes share entities). */
const entityAt = (i) => ({ name: `Entity${i}`, type: TYPES[i % TYPES.length] });

/** The writes of episode `i`: its text as a document (with a vector), then its knowledge. */
function episodeWrites(i, rnd) {
  // a skewed pick: some entities are met in many episodes (a hub), most in a few
  const pick = () => Math.floor(rnd() ** 3 * ENTITY_NAMES);
  const ents = Array.from({ length: ENTITIES_PER_EPISODE }, () => entityAt(pick()));
  const words = Array.from({ length: 60 }, () => WORDS[Math.floor(rnd() ** 2 * WORDS.length)]);
  const text = `${words.join(" ")} ${ents.map((e) => e.name).join(" ")}`;
  const startedAt = Date.UTC(2026, 0, 1) + i * 60_000;
  const facts = Array.from({ length: FACTS_PER_EPISODE }, (_, k) => {
    const s = ents[Math.floor(rnd() * ents.length)];
    const o = ents[Math.floor(rnd() * ents.length)];
    // one fact in ten is exclusive (a status that a later episode may contradict)
    const exclusive = k === 0;
    const relation = exclusive ? "status" : RELATIONS[Math.floor(rnd() * RELATIONS.length)];
    const object = exclusive ? `state${Math.floor(rnd() * 5)}` : o.name;
    return {
      subject: s.name,
      relation,
      object,
      fact: `${s.name} ${relation} ${object} ${words.slice(k * 4, k * 4 + 4).join(" ")}`,
      valid_at: null,
      exclusive,
    };
  });
  const key = `session-${Math.floor(i / 10)}:${i % 10}`;
  const values = Array.from({ length: DIM }, () => rnd() * 2 - 1);
  return [
    {
      kind: "upsert",
      job: "mem",
      collection: "episodes",
      key,
      version: "1",
      content: text,
      vector: { model: "bench", values },
    },
    {
      kind: "knowledge",
      job: "mem",
      collection: "episodes",
      key,
      version: "1",
      origin: {
        session: `session-${Math.floor(i / 10)}`,
        firstTurn: (i % 10) * 6,
        lastTurn: (i % 10) * 6 + 5,
        startedAt,
        endedAt: startedAt + 50_000,
        source: "bench.jsonl",
        metadata: { project: "/bench" },
      },
      extraction: {
        summary: words.slice(0, 20).join(" "),
        model: "bench",
        usage: { promptTokens: 1500, completionTokens: 300 },
        entities: ents.map((e) => ({ ...e, description: `${e.type} ${e.name} ${words[0]}` })),
        facts,
      },
    },
  ];
}

/** p50/p95 of QUERIES calls, and how many results they gave on average (a query that finds nothing is cheap). */
async function timed(fn) {
  const ms = [];
  let results = 0;
  for (let q = 0; q < QUERIES; q++) {
    const t = now();
    const r = await fn(q);
    ms.push(now() - t);
    results += Array.isArray(r) ? r.length : r ? 1 : 0;
  }
  return {
    p50Ms: percentile(ms, 50),
    p95Ms: percentile(ms, 95),
    queries: QUERIES,
    meanResults: results / QUERIES,
  };
}

async function measure(name, ledger, episodes, fuseRanks) {
  const docs = ledger.documents;
  const store = ledger.knowledge;
  const rnd = random(7);
  const started = now();
  for (let at = 0; at < episodes; at += BATCH) {
    const writes = [];
    for (let i = at; i < Math.min(episodes, at + BATCH); i++) writes.push(...episodeWrites(i, rnd));
    await docs.write(writes);
    if ((at / BATCH) % 40 === 0) log(`[11] ${name}: ${at} episodes written`);
  }
  const writeMs = now() - started;
  const stats = await store.stats();
  log(`[11] ${name}: ${JSON.stringify(stats)} in ${(writeMs / 1000).toFixed(1)} s`);

  const q = random(99);
  const word = () => WORDS[Math.floor(q() ** 2 * 300)];
  const texts = Array.from({ length: QUERIES }, () => `${word()} ${word()}`);
  const names = Array.from({ length: QUERIES }, () => entityAt(Math.floor(q() * ENTITY_NAMES)).name);
  const vectors = Array.from({ length: QUERIES }, () => Array.from({ length: DIM }, () => q() * 2 - 1));
  const seeds = [];
  for (const n of names) {
    const e = await store.entity({ name: n });
    if (e) seeds.push(e.entity.id);
  }
  const seed = (i) => [seeds[i % seeds.length]];
  const id = (e) => `${e.collection}\u0000${e.key}`;
  const kinds = {
    keywordEpisodes: await timed((i) => store.searchEpisodes(texts[i], { limit: LIMIT })),
    keywordEntities: await timed((i) => store.searchEntities(names[i], { limit: LIMIT })),
    keywordFacts: await timed((i) => store.searchFacts(texts[i], { limit: LIMIT })),
    vectorEpisodes: await timed((i) => store.semanticEpisodes(vectors[i], { limit: LIMIT })),
    graph1Hop: await timed((i) => store.neighbours(seed(i), 1, 50)),
    graph2Hops: await timed((i) => store.neighbours(seed(i), 2, 50)),
    entity: await timed((i) => store.entity({ name: names[i] })),
    fusedEpisodes: await timed(async (i) => {
      const [a, b] = await Promise.all([
        store.searchEpisodes(texts[i], { limit: 50 }),
        store.semanticEpisodes(vectors[i], { limit: 50 }),
      ]);
      return fuseRanks([a, b], id).slice(0, LIMIT);
    }),
  };
  for (const [k, v] of Object.entries(kinds))
    log(
      `[11] ${name} ${k}: p50 ${v.p50Ms.toFixed(1)} ms, p95 ${v.p95Ms.toFixed(1)} ms, ${v.meanResults} results`,
    );
  return {
    stats,
    write: { episodesPerSecond: episodes / (writeMs / 1000), seconds: writeMs / 1000 },
    vectorSearch: docs.vectorSearchWarning?.() ?? "index",
    ...kinds,
  };
}

export async function main() {
  const episodes = Math.max(500, Math.round(10_000 * benchScale()));
  const which = new Set((process.env.BENCH_KNOWLEDGE ?? "sqlite").split(",").map((s) => s.trim()));
  const { fuseRanks } = await import(pathToFileURL(path.join(DIST, "service/rank-fusion.js")).href);
  const out = { episodes, factsPerEpisode: FACTS_PER_EPISODE, dim: DIM, limit: LIMIT };
  if (which.has("sqlite")) {
    const { openSqliteLedger } = await import(
      pathToFileURL(path.join(DIST, "ledger/sqlite/sqlite-ledger.js")).href
    );
    const dir = tempDir("knowledge");
    try {
      const ledger = openSqliteLedger(path.join(dir, "state.db"));
      out.sqlite = await measure("sqlite", ledger, episodes, fuseRanks);
      await ledger.close();
    } finally {
      removeDir(dir);
    }
  }
  if (which.has("postgres")) {
    const { startBenchPostgres } = await import("./pg-cluster.mjs");
    const { openPostgresLedger } = await import(
      pathToFileURL(path.join(DIST, "ledger/postgres/postgres-ledger.js")).href
    );
    const server = await startBenchPostgres();
    try {
      const ledger = openPostgresLedger({ url: server.url, schema: "bench_knowledge", poolSize: 4 });
      out.postgres = { server: server.version, ...(await measure("postgres", ledger, episodes, fuseRanks)) };
      await ledger.close();
    } finally {
      await server.stop();
    }
  }
  out.peakRssKiB = peakRssKiB();
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) emitResult(await main());
