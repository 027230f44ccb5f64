// Section 11's rows of the bench table (bench/run.mjs) from bench/knowledge.mjs's result.

const int = (n) => Math.round(n).toLocaleString("en-US");
const ms = (x) => `${x.p50Ms.toFixed(1)} / ${x.p95Ms.toFixed(1)} ms`;

const KINDS = [
  ["keywordEpisodes", "keyword: episodes (bm25 over text + summary), top 10"],
  ["keywordEntities", "keyword: entities (names, aliases, descriptions), top 10"],
  ["keywordFacts", "keyword: facts, top 10"],
  ["vectorEpisodes", "vector: episodes (the documents' vector index), top 10"],
  ["graph1Hop", "graph: neighbours within 1 hop, up to 50"],
  ["graph2Hops", "graph: neighbours within 2 hops, up to 50"],
  ["entity", "an entity by name with its facts and episodes"],
  ["fusedEpisodes", "fused: episodes keyword + vector (RRF of top 50 each), top 10"],
];

/** One row per search kind: p50 / p95 on SQLite, and on PostgreSQL when it ran. */
export function knowledgeRows(k) {
  const size = `${int(k.episodes)} episodes / ${int(k.episodes * k.factsPerEpisode)} facts`;
  const rows = KINDS.map(
    ([id, what]) =>
      `| 11. knowledge store, ${size}: ${what} (p50 / p95) ` +
      `| SQLite ${k.sqlite ? ms(k.sqlite[id]) : "–"} | PostgreSQL ${k.postgres ? ms(k.postgres[id]) : "not run"} ` +
      `| mean ${k.sqlite ? k.sqlite[id].meanResults.toFixed(1) : "–"} results | – | – | – |`,
  );
  const w = (x) =>
    x ? `${int(x.write.episodesPerSecond)} episodes/s (${x.write.seconds.toFixed(1)} s)` : "–";
  rows.push(
    `| 11. knowledge store: writing ${size} through KnowledgeWrites (with documents and ${k.dim}-d vectors) ` +
      `| SQLite ${w(k.sqlite)} | PostgreSQL ${k.postgres ? w(k.postgres) : "not run"} | – | – | – | – |`,
  );
  return rows;
}
