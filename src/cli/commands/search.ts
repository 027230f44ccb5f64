import { OpenAiEmbeddings } from "../../connectors/enrichers/openai-embeddings.js";
import { UsageError } from "../../errors.js";
import type { SearchHit } from "../../ledger/types.js";
import type { SyncService } from "../../service/sync-service.js";
import { printJson, withService, type GlobalOptions } from "../context.js";

/** Embeds the query with the first openai-embeddings step found (of --job, or of any job). */
async function semanticHits(
  service: SyncService,
  query: string,
  job: string | undefined,
  limit: number,
): Promise<SearchHit[] | string> {
  const jobs = Object.entries(service.loaded.config.jobs).filter(
    ([name]) => job === undefined || name === job,
  );
  for (const [name, config] of jobs) {
    for (const phase of config.phases) {
      const step = phase.enrich.find((e) => e.type === "openai-embeddings");
      if (step?.type !== "openai-embeddings") continue;
      if ((await service.ledger.countVectors(job)) === 0) {
        return `no vectors are stored${job ? ` for ${job}` : ""} yet: run the job (its ${step.provider} provider must answer), or pay debts with \`syncwarden retry --debts\`; keyword search works without --semantic`;
      }
      const embedder = new OpenAiEmbeddings(step);
      const vector = await embedder.embed(query, {
        ...service.connectorContext(name, phase.name),
        signal: new AbortController().signal,
      });
      return service.ledger.semanticSearch(vector, { ...(job ? { job } : {}), limit });
    }
  }
  return `no job${job ? ` named ${job}` : ""} has an openai-embeddings enrich step, so there are no vectors to rank; search without --semantic`;
}

/** `syncwarden search QUERY`: bm25-ranked documents of the embedded store, with snippets (or cosine with --semantic). */
export async function searchCommand(
  words: string[],
  opts: GlobalOptions & { job?: string; limit?: string; json?: boolean; semantic?: boolean },
): Promise<number> {
  const limit = Number(opts.limit ?? "10");
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive integer, got "${opts.limit ?? ""}"`);
  const query = words.join(" ").trim();
  if (query === "") throw new UsageError("search needs a query");
  return withService(opts, async (service) => {
    const found = opts.semantic
      ? await semanticHits(service, query, opts.job, limit)
      : await service.ledger.searchDocuments(query, { ...(opts.job ? { job: opts.job } : {}), limit });
    if (typeof found === "string") {
      process.stderr.write(`syncwarden: ${found}\n`);
      if (opts.json) printJson([]);
      return 0;
    }
    if (opts.json) printJson(found);
    else if (found.length === 0) process.stdout.write(`no documents match "${query}"\n`);
    else {
      for (const h of found) {
        const score = opts.semantic ? `cosine ${h.score.toFixed(3)}` : `score ${(-h.score).toFixed(2)}`;
        process.stdout.write(
          `${h.key}  (${h.job}, ${score})\n${h.snippet ? `    ${h.snippet.replace(/\s+/g, " ").trim()}\n` : ""}`,
        );
      }
    }
    return 0;
  });
}
