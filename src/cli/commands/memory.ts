import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import type { EntityRecord, EpisodeView, FactRecord, MemoryHit, MemoryKind } from "../../service/memory.js";
import { act, globalsOf, printJson, withServices, type GlobalOptions } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { pointInTime, positiveInt } from "../flags.js";

interface MemoryFlags extends GlobalOptions {
  job?: string;
  limit?: string;
  json?: boolean;
}

const KINDS: readonly MemoryKind[] = ["all", "episodes", "entities", "facts"];
const day = (ms: number | null): string => (ms === null ? "?" : new Date(ms).toISOString().slice(0, 16));

const factLine = (f: FactRecord): string =>
  `${f.subject} —${f.relation}→ ${f.object}${f.invalidAt !== null ? ` (until ${day(f.invalidAt)})` : ""}: ${f.fact}`;
const entityLine = (e: EntityRecord): string =>
  `${e.name} [${e.type}]${e.aliases.length > 0 ? ` aka ${e.aliases.join(", ")}` : ""} — ${e.description} (${e.mentions} episodes)`;
const episodeLine = (e: EpisodeView): string =>
  `${e.key}  ${day(e.startedAt)}${e.extracted ? "" : " (raw)"}\n    ${e.snippet}`;

function hitLine(h: MemoryHit): string {
  const how = `${h.via.join("+")} ${h.score.toFixed(4)}`;
  if (h.kind === "episode") return `episode ${episodeLine(h.episode)}  (${how})`;
  if (h.kind === "entity") return `entity  ${entityLine(h.entity)}  (${how})`;
  return `fact    ${factLine(h.fact)}  (${how})`;
}

export function register(program: Command): void {
  const memory = program
    .command("memory")
    .description("search and read what the memory sink stored: episodes of agent sessions, entities, facts");
  memory
    .command("search")
    .description(
      "keyword + vector + graph search over episodes, entities and facts, fused by reciprocal rank",
    )
    .argument("<query...>")
    .option("--kind <kind>", "episodes, entities, facts or all", "all")
    .option("--job <job>", "only this job's memory")
    .option("--hops <n>", "how far graph search walks from the entities found", "2")
    .option("--limit <n>", "at most n results", "10")
    .option("--json", "print hits as JSON on stdout")
    .action(
      act((words: string[], _o: unknown, cmd: Command) =>
        searchCommand(words, globalsOf<MemoryFlags & { kind?: string; hops?: string }>(cmd)),
      ),
    );
  memory
    .command("entity")
    .description("an entity with its aliases, its facts (both ways, with their validity) and source episodes")
    .argument("<name...>")
    .option("--type <type>", "the entity's type, when the name has several (file, library, error, ...)")
    .option("--job <job>", "only this job's memory")
    .option("--json", "print as JSON on stdout")
    .action(
      act((words: string[], _o: unknown, cmd: Command) =>
        entityCommand(words.join(" "), globalsOf<MemoryFlags & { type?: string }>(cmd)),
      ),
    );
  memory
    .command("episodes")
    .description("episodes of a session, or of a time range, newest first")
    .option("--session <id>", "one session's episodes")
    .option("--since <when>", "from this time (ISO) or this long ago (2h, 7d)")
    .option("--until <when>", "up to this time (ISO) or this long ago")
    .option("--job <job>", "only this job's memory")
    .option("--limit <n>", "at most n episodes", "20")
    .option("--json", "print as JSON on stdout")
    .action(
      act((_o: unknown, cmd: Command) =>
        episodesCommand(globalsOf<MemoryFlags & { session?: string; since?: string; until?: string }>(cmd)),
      ),
    );
  memory
    .command("add")
    .description(
      "add a note as an episode (its entities and facts are extracted now, or owed while the LLM is down)",
    )
    .argument("<text...>")
    .option("--title <title>", "a title for the note")
    .option("--job <job>", "the job whose memory takes it (default: the first with a memory sink)")
    .option("--json", "print the outcome as JSON on stdout")
    .action(
      act((words: string[], _o: unknown, cmd: Command) =>
        addCommand(words.join(" "), globalsOf<MemoryFlags & { title?: string }>(cmd)),
      ),
    );
}

async function searchCommand(
  words: string[],
  o: MemoryFlags & { kind?: string; hops?: string },
): Promise<number> {
  const query = words.join(" ").trim();
  if (query === "") throw new UsageError("memory search needs a query");
  const kind = (o.kind ?? "all") as MemoryKind;
  if (!KINDS.includes(kind))
    throw new UsageError(`--kind must be one of ${KINDS.join(", ")}, got "${o.kind}"`);
  const limit = positiveInt("--limit", o.limit, 10);
  const hops = positiveInt("--hops", o.hops, 2);
  return withServices({ ...o, jobs: [o.job] }, async ({ sync }) => {
    const found = await sync.memory.search({ query, kind, limit, hops, ...(o.job ? { job: o.job } : {}) });
    for (const w of found.warnings) process.stderr.write(`syncwarden: warning: ${w}\n`);
    if (o.json) printJson(found.hits);
    else if (found.hits.length === 0) process.stdout.write(`nothing in memory matches "${query}"\n`);
    else for (const h of found.hits) process.stdout.write(`${hitLine(h)}\n`);
    return EXIT.ok;
  });
}

async function entityCommand(name: string, o: MemoryFlags & { type?: string }): Promise<number> {
  return withServices({ ...o, jobs: [o.job] }, async ({ sync }) => {
    const found = await sync.memory.entity({
      name,
      ...(o.type ? { type: o.type } : {}),
      ...(o.job ? { job: o.job } : {}),
    });
    if (!found) {
      process.stderr.write(`syncwarden: no entity named "${name}"${o.type ? ` of type ${o.type}` : ""}\n`);
      if (o.json) printJson(null);
      return EXIT.usage;
    }
    if (o.json) printJson(found);
    else {
      const lines = [entityLine(found.entity), "facts:", ...found.facts.map((f) => `  ${factLine(f)}`)];
      lines.push("episodes:", ...found.episodes.map((e) => `  ${episodeLine(e)}`));
      process.stdout.write(`${lines.join("\n")}\n`);
    }
    return EXIT.ok;
  });
}

async function episodesCommand(
  o: MemoryFlags & { session?: string; since?: string; until?: string },
): Promise<number> {
  const since = pointInTime("--since", o.since);
  const until = pointInTime("--until", o.until);
  const limit = positiveInt("--limit", o.limit, 20);
  return withServices({ ...o, jobs: [o.job] }, async ({ sync }) => {
    const episodes = await sync.memory.episodes({
      limit,
      ...(o.job ? { job: o.job } : {}),
      ...(o.session ? { session: o.session } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
    });
    if (o.json) printJson(episodes);
    else if (episodes.length === 0) process.stdout.write("no episodes\n");
    else for (const e of episodes) process.stdout.write(`${episodeLine(e)}\n`);
    return EXIT.ok;
  });
}

async function addCommand(text: string, o: MemoryFlags & { title?: string }): Promise<number> {
  return withServices({ ...o, jobs: [o.job] }, async ({ sync }) => {
    const out = await sync.memory.addNote({
      text,
      ...(o.job ? { job: o.job } : {}),
      ...(o.title ? { title: o.title } : {}),
    });
    if (o.json) printJson(out);
    else
      process.stderr.write(
        `${out.job}: stored ${out.key} (${out.degradation})${out.owed.length > 0 ? `; owed: ${out.owed.join("; ")}` : ""}\n`,
      );
    return out.degradation === "full" ? EXIT.ok : EXIT.partial;
  });
}
