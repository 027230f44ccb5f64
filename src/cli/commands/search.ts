import { UsageError } from "../../errors.js";
import { printJson, withService, type GlobalOptions } from "../context.js";

/** `syncwarden search QUERY`: bm25-ranked documents of the embedded store, with snippets. */
export async function searchCommand(
  words: string[],
  opts: GlobalOptions & { job?: string; limit?: string; json?: boolean },
): Promise<number> {
  const limit = Number(opts.limit ?? "10");
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive integer, got "${opts.limit ?? ""}"`);
  const query = words.join(" ").trim();
  if (query === "") throw new UsageError("search needs a query");
  return withService(opts, async (service) => {
    const hits = await service.ledger.searchDocuments(query, {
      ...(opts.job ? { job: opts.job } : {}),
      limit,
    });
    if (opts.json) printJson(hits);
    else if (hits.length === 0) process.stdout.write(`no documents match "${query}"\n`);
    else {
      for (const h of hits) {
        process.stdout.write(
          `${h.key}  (${h.job}, score ${(-h.score).toFixed(2)})\n    ${h.snippet.replace(/\s+/g, " ").trim()}\n`,
        );
      }
    }
    return 0;
  });
}
