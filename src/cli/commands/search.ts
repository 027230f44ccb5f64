import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { positiveInt } from "../flags.js";
import { placeOf } from "../../service/search.js";

interface SearchFlags extends GlobalOptions {
  job?: string;
  limit?: string;
  json?: boolean;
  semantic?: boolean;
  hybrid?: boolean;
}

export function register(program: Command): void {
  program
    .command("search")
    .description(
      "full-text search over the documents of sqlite-docs (bm25) and postgres-docs (ts_rank) sinks; a file's hit shows path:line symbol",
    )
    .argument("<query...>")
    .option("--job <job>", "only this job's documents")
    .option("--semantic", "rank by cosine similarity of embeddings (needs an openai-embeddings enrich step)")
    .option(
      "--hybrid",
      "fuse bm25 and embedding KNN by reciprocal rank (needs an openai-embeddings enrich step)",
    )
    .option("--limit <n>", "at most n results", "10")
    .option("--json", "print hits as JSON on stdout")
    .action(
      act((words: string[], _o: unknown, cmd: Command) => searchCommand(words, globalsOf<SearchFlags>(cmd))),
    );
}

/** `syncwarden search QUERY`: bm25-ranked documents of the sinks' stores, with snippets (or cosine with --semantic). */
async function searchCommand(words: string[], opts: SearchFlags): Promise<number> {
  const limit = positiveInt("--limit", opts.limit, 10);
  const query = words.join(" ").trim();
  if (query === "") throw new UsageError("search needs a query");
  return withServices({ ...opts, jobs: [opts.job] }, async ({ sync }) => {
    const found = await sync.search(query, {
      ...(opts.job ? { job: opts.job } : {}),
      limit,
      semantic: opts.semantic ?? false,
      hybrid: opts.hybrid ?? false,
    });
    if ("note" in found) {
      process.stderr.write(`syncwarden: ${found.note}\n`);
      if (opts.json) printJson([]);
      return 0;
    }
    for (const w of found.warnings ?? []) process.stderr.write(`syncwarden: warning: ${w}\n`);
    if (opts.json) printJson(found.hits);
    else if (found.hits.length === 0) process.stdout.write(`no documents match "${query}"\n`);
    else
      for (const h of found.hits) {
        const score = opts.hybrid
          ? `rrf ${h.score.toFixed(4)}`
          : opts.semantic
            ? `cosine ${h.score.toFixed(3)}`
            : `score ${(-h.score).toFixed(2)}`;
        process.stdout.write(
          `${placeOf(h)}  (${h.job}, ${score})\n${h.snippet ? `    ${h.snippet.replace(/\s+/g, " ").trim()}\n` : ""}`,
        );
      }
    return 0;
  });
}
