import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type {
  EpisodeOrigin,
  ExtractedEntity,
  ExtractedFact,
  Extraction,
  FactRecord,
  KnowledgeStore,
  KnowledgeWrite,
} from "../src/ledger/knowledge.js";
import type { Ledger } from "../src/ledger/ledger.js";
import { openPostgresLedger } from "../src/ledger/postgres/postgres-ledger.js";
import { openSqliteLedger } from "../src/ledger/sqlite/sqlite-ledger.js";
import type { DocumentUpsert, DocumentWrite } from "../src/ledger/types.js";
import { openPlan, phaseRef, settlement } from "./ledger-contract/fixtures.js";
import { dropSchema, freshSchema, testPostgres } from "./helpers/postgres.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const T0 = Date.parse("2026-03-01T10:00:00Z");
const HOUR = 3_600_000;

afterAll(async () => (await testPostgres()).stop());

const origin = (session: string, startedAt: number, extra: Partial<EpisodeOrigin> = {}): EpisodeOrigin => ({
  session,
  firstTurn: 0,
  lastTurn: 3,
  startedAt,
  endedAt: startedAt + 60_000,
  source: `/home/u/.claude/projects/p/${session}.jsonl`,
  metadata: { project: "/work/app", branch: "main" },
  ...extra,
});

const ent = (name: string, type = "library", description = ""): ExtractedEntity => ({
  name,
  type,
  description,
});
const fact = (
  subject: string,
  relation: string,
  object: string,
  extra: Partial<ExtractedFact> = {},
): ExtractedFact => ({
  subject,
  relation,
  object,
  fact: `${subject} ${relation} ${object}`,
  valid_at: null,
  exclusive: false,
  ...extra,
});
const extraction = (
  entities: ExtractedEntity[],
  facts: ExtractedFact[] = [],
  summary = "a summary",
  usage = { promptTokens: 100, completionTokens: 20 },
): Extraction => ({ summary, entities, facts, model: "m", usage });

/** An episode as a sink writes it: its text as a document, then its knowledge. */
const episode = (
  key: string,
  text: string,
  o: EpisodeOrigin | undefined,
  x: Extraction | null,
  extra: { job?: string; version?: string; vector?: number[] } = {},
): DocumentWrite[] => {
  const job = extra.job ?? "mem";
  const version = extra.version ?? "1";
  const doc: DocumentUpsert = {
    kind: "upsert",
    job,
    collection: "episodes",
    key,
    version,
    content: text,
    ...(extra.vector ? { vector: { model: "m", values: extra.vector } } : {}),
  };
  const k: KnowledgeWrite = {
    kind: "knowledge",
    job,
    collection: "episodes",
    key,
    version,
    extraction: x,
    ...(o ? { origin: o } : {}),
  };
  return [doc, k];
};

/** A fact as the tests compare it across ledgers (ids differ): names, times, validity. */
const shape = (f: FactRecord) => ({
  s: f.subject,
  r: f.relation,
  o: f.object,
  validAt: f.validAt,
  invalidAt: f.invalidAt,
});
const shapes = (fs: FactRecord[]) =>
  fs.map(shape).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

interface Impl {
  /** A fresh ledger (a new file or schema); more calls in one test give more, each its own. */
  open(): Promise<Ledger>;
  /** What a child process passes to open the same ledger as the last `open()`. */
  target(): { kind: "sqlite"; file: string } | { kind: "postgres"; url: string; schema: string };
  cleanup(): Promise<void>;
}

const WRITER = `
const [kind, a, b, tag, n] = process.argv.slice(2);
const ledger = kind === "sqlite"
  ? (await import(${JSON.stringify(path.join(ROOT, "dist/ledger/sqlite/sqlite-ledger.js"))})).openSqliteLedger(a)
  : (await import(${JSON.stringify(path.join(ROOT, "dist/ledger/postgres/postgres-ledger.js"))})).openPostgresLedger({ url: a, schema: b, poolSize: 2 });
const spellings = ["Zod", "zod", "\`zod\`", " ZOD ", "zod()"];
for (let i = 0; i < Number(n); i++) {
  const key = tag + "-" + i;
  const extraction = { summary: "s", model: "m", usage: { promptTokens: 1, completionTokens: 1 },
    entities: [{ name: spellings[i % spellings.length], type: "library", description: "schemas " + tag },
               { name: "Shared" + (i % 7), type: "concept", description: "" }],
    facts: [{ subject: "Shared" + (i % 7), relation: "uses", object: "zod", fact: "uses zod", valid_at: null, exclusive: false }] };
  await ledger.documents.write([
    { kind: "upsert", job: "mem", collection: "episodes", key, version: "1", content: "talk about zod " + key },
    { kind: "knowledge", job: "mem", collection: "episodes", key, version: "1", extraction,
      origin: { session: tag, firstTurn: i, lastTurn: i, startedAt: i, endedAt: i, source: "x", metadata: {} } },
  ]);
}
// both processes write one shared episode, the same extraction, over and over: its usage counts once
const shared = { summary: "shared", model: "m", usage: { promptTokens: 1000, completionTokens: 1 },
  entities: [{ name: "zod", type: "library", description: "" }], facts: [] };
for (let i = 0; i < 5; i++)
  await ledger.documents.write([
    { kind: "upsert", job: "mem", collection: "episodes", key: "shared", version: "1", content: "shared" },
    { kind: "knowledge", job: "mem", collection: "episodes", key: "shared", version: "1", extraction: shared,
      origin: { session: "shared", firstTurn: 0, lastTurn: 0, startedAt: 0, endedAt: 0, source: "x", metadata: {} } },
  ]);
await ledger.close();
`;

function knowledgeSuite(name: string, makeImpl: () => Impl): void {
  describe(`knowledge store (${name})`, () => {
    let impl: Impl;
    let ledger: Ledger;
    let store: KnowledgeStore;
    const write = (writes: DocumentWrite[]) => ledger.documents!.write(writes);

    beforeEach(async () => {
      impl = makeImpl();
      ledger = await impl.open();
      store = ledger.knowledge!;
    });
    afterEach(async () => impl.cleanup());

    it("one entity per (type, normalised name): Zod, zod and `zod` are one, with the others as aliases", async () => {
      await write(
        episode("e1", "we chose Zod", origin("s1", T0), extraction([ent("Zod", "library", "schemas")])),
      );
      await write(episode("e2", "zod again", origin("s1", T0 + HOUR), extraction([ent("zod", "Library")])));
      await write(
        episode(
          "e3",
          "`zod` in code",
          origin("s2", T0 + 2 * HOUR),
          extraction([ent("`zod`", "library", "TypeScript-first schema validation")]),
        ),
      );
      const found = await store.searchEntities("zod", { limit: 10 });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        name: "Zod",
        type: "library",
        mentions: 3,
        description: "TypeScript-first schema validation",
      });
      expect(found[0]!.aliases.sort()).toEqual(["`zod`", "zod"]);
      expect((await store.stats()).entities).toBe(1);
      // another type is another entity
      await write(episode("e4", "zod the person", origin("s2", T0), extraction([ent("Zod", "person")])));
      expect((await store.stats()).entities).toBe(2);
      expect((await store.entity({ name: "ZOD", type: "person" }))!.entity.type).toBe("person");
      // full-width letters, quotes, a trailing "()" and inner spaces normalise away
      await write(
        episode(
          "e5",
          "more",
          origin("s3", T0),
          extraction([
            ent("Ｚｏｄ"),
            ent('"zod"'),
            ent("parse()", "function"),
            ent("`parse`", "function"),
            ent(" big   thing ", "concept"),
          ]),
        ),
      );
      expect((await store.stats()).entities).toBe(4);
      expect((await store.entity({ name: "parse", type: "function" }))!.entity).toMatchObject({
        name: "parse()",
        aliases: ["`parse`"],
      });
      expect((await store.entity({ name: "BIG THING" }))!.entity.name).toBe("big   thing");
    });

    it("two writer processes at once still make one entity per name (the constraint holds)", async () => {
      const script = path.join(mkdtempSync(path.join(tmpdir(), "syncwarden-kw-")), "writer.mjs");
      writeFileSync(script, WRITER);
      const t = impl.target();
      const args = t.kind === "sqlite" ? [t.kind, t.file, "-"] : [t.kind, t.url, t.schema];
      const run = (tag: string): Promise<number> =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [script, ...args, tag, "25"], {
            stdio: ["ignore", "ignore", "inherit"],
          });
          child.on("error", reject);
          child.on("close", (code) => resolve(code ?? -1));
        });
      expect(await Promise.all([run("a"), run("b")])).toEqual([0, 0]);
      rmSync(path.dirname(script), { recursive: true, force: true });
      const stats = await store.stats();
      expect(stats).toMatchObject({
        episodes: 51,
        extracted: 51,
        entities: 8,
        facts: 50,
        validFacts: 50,
        promptTokens: 1050,
      });
      const zod = await store.entity({ name: "zod" });
      expect(zod!.entity.mentions).toBe(51);
      expect(zod!.entity.aliases.length).toBeGreaterThanOrEqual(3);
      expect(zod!.facts).toHaveLength(50);
    }, 30_000);

    it("an exclusive fact invalidates the older one, whichever episode is written first", async () => {
      const older = episode(
        "old",
        "status draft",
        origin("s", T0),
        extraction(
          [ent("release", "decision")],
          [fact("release", "has status", "draft", { exclusive: true })],
        ),
      );
      const newer = episode(
        "new",
        "status shipped",
        origin("s", T0 + HOUR),
        extraction(
          [ent("release", "decision")],
          [
            fact("release", "has status", "shipped", { exclusive: true }),
            fact("release", "depends on", "zod", { valid_at: "2026-03-01T09:00:00Z" }),
          ],
        ),
      );
      await write(older);
      await write(newer);
      const one = await store.searchFacts("release", { limit: 10, includeInvalid: true });
      const other = await impl.open();
      await other.documents!.write(newer);
      await other.documents!.write(older);
      const two = await other.knowledge!.searchFacts("release", { limit: 10, includeInvalid: true });
      expect(shapes(two)).toEqual(shapes(one));
      expect(shapes(one)).toEqual([
        { s: "release", r: "depends_on", o: "zod", validAt: T0 - HOUR, invalidAt: null },
        { s: "release", r: "has_status", o: "draft", validAt: T0, invalidAt: T0 + HOUR },
        { s: "release", r: "has_status", o: "shipped", validAt: T0 + HOUR, invalidAt: null },
      ]);
      // valid facts only by default
      expect((await store.searchFacts("status", { limit: 10 })).map((f) => f.object)).toEqual(["shipped"]);
      expect(await store.stats()).toMatchObject({ facts: 3, validFacts: 2 });
    });

    it("re-writing an episode replaces what it extracted: counts equal a single write; what it invalidated holds again", async () => {
      await write(
        episode(
          "a",
          "v1",
          origin("s", T0),
          extraction([ent("app", "repository")], [fact("app", "uses", "zod"), fact("app", "uses", "yup")]),
        ),
      );
      await write(
        episode(
          "b",
          "later",
          origin("s", T0 + HOUR),
          extraction([ent("app", "repository")], [fact("app", "state", "red", { exclusive: true })]),
        ),
      );
      await write(
        episode(
          "a",
          "v2",
          origin("s", T0),
          extraction([ent("app", "repository")], [fact("app", "state", "green", { exclusive: true })]),
          { version: "2" },
        ),
      );
      const again = await store.searchFacts("app", { limit: 10, includeInvalid: true });
      expect(shapes(again)).toEqual([
        { s: "app", r: "state", o: "green", validAt: T0, invalidAt: T0 + HOUR },
        { s: "app", r: "state", o: "red", validAt: T0 + HOUR, invalidAt: null },
      ]);
      // episode b re-done without its fact: green holds again
      await write(
        episode("b", "later", origin("s", T0 + HOUR), extraction([ent("app", "repository")]), {
          version: "2",
        }),
      );
      const after = await store.searchFacts("app", { limit: 10, includeInvalid: true });
      expect(shapes(after)).toEqual([{ s: "app", r: "state", o: "green", validAt: T0, invalidAt: null }]);
      expect(await store.stats()).toMatchObject({ episodes: 2, facts: 1, validFacts: 1 });
      // the usage of every extraction written is summed (four extractions of two episodes: 4 × 100)
      expect((await store.stats()).promptTokens).toBe(400);
    });

    it("a raw episode is searchable at once; its debt payment adds the extraction and its usage once", async () => {
      await write(episode("r", "the flaky migration of the billing service", origin("s9", T0), null));
      expect(await store.stats()).toMatchObject({ episodes: 1, extracted: 0, entities: 0, promptTokens: 0 });
      const raw = await store.searchEpisodes("billing migration", { limit: 5 });
      expect(raw.map((e) => [e.key, e.extracted, e.summary, e.session])).toEqual([["r", false, null, "s9"]]);
      // a late debt for another version is dropped, as a late vector is
      const debt = (version: string): KnowledgeWrite => ({
        kind: "knowledge",
        job: "mem",
        collection: "episodes",
        key: "r",
        version,
        extraction: extraction(
          [ent("billing service", "repository", "bills")],
          [fact("billing service", "migrated to", "postgres")],
          "moved billing to postgres",
          { promptTokens: 700, completionTokens: 90 },
        ),
      });
      await write([debt("0")]);
      expect((await store.stats()).extracted).toBe(0);
      await write([debt("1")]);
      await write([debt("1")]);
      expect(await store.stats()).toMatchObject({
        episodes: 1,
        extracted: 1,
        entities: 2,
        facts: 1,
        promptTokens: 700,
        completionTokens: 90,
      });
      const [e] = await store.searchEpisodes("postgres", { limit: 5 });
      expect(e).toMatchObject({
        key: "r",
        summary: "moved billing to postgres",
        session: "s9",
        startedAt: T0,
      });
      // the fact took the episode's time; the unknown object became a concept
      const f = await store.entity({ name: "postgres" });
      expect(f!.entity.type).toBe("concept");
      expect(f!.facts.map((x) => [x.subject, x.validAt])).toEqual([["billing service", T0]]);
      // a debt for an episode never registered beside an existing document is a caller's bug: refused
      await write([
        { kind: "upsert", job: "mem", collection: "episodes", key: "lost", version: "1", content: "x" },
      ]);
      await expect(write([{ ...debt("1"), key: "lost" }])).rejects.toThrow(
        "knowledge write for mem/episodes/lost has no origin",
      );
    });

    it("applying the same write twice leaves the same state (a retried commit)", async () => {
      const w = episode(
        "x",
        "text",
        origin("s", T0),
        extraction(
          [ent("Vitest", "library", "tests"), ent("vitest", "library")],
          [fact("Vitest", "replaced", "jest"), fact("app", "status", "ok", { exclusive: true })],
        ),
      );
      await write(w);
      const once = { stats: await store.stats(), e: await store.entity({ name: "vitest" }) };
      await write(w);
      await write([...w, ...w]);
      expect(await store.stats()).toEqual(once.stats);
      expect(await store.entity({ name: "vitest" })).toEqual(once.e);
      expect(once.stats).toMatchObject({ episodes: 1, entities: 4, facts: 2, promptTokens: 100 });
    });

    it("a document delete takes its episode, its facts and mentions", async () => {
      await write(
        episode(
          "d",
          "gone soon",
          origin("s", T0),
          extraction([ent("pino")], [fact("app", "logs with", "pino")]),
        ),
      );
      await write(episode("k", "stays", origin("s", T0), extraction([ent("pino")])));
      await write([{ kind: "delete", job: "mem", collection: "episodes", key: "d" }]);
      expect(await store.stats()).toMatchObject({ episodes: 1, facts: 0 });
      expect((await store.entity({ name: "pino" }))!.entity.mentions).toBe(1);
      expect(await store.searchEpisodes("gone", { limit: 5 })).toEqual([]);
      // forgetting the job (--nuke) takes all of its knowledge
      await ledger.plans.forgetJob("mem");
      expect(await store.stats()).toEqual({
        episodes: 0,
        extracted: 0,
        entities: 0,
        facts: 0,
        validFacts: 0,
        promptTokens: 0,
        completionTokens: 0,
      });
    });

    it("neighbours within 1 and 2 hops, both directions, valid facts only, nearest first", async () => {
      await write(
        episode(
          "g",
          "graph",
          origin("s", T0),
          extraction(
            [ent("a", "concept"), ent("b", "concept"), ent("c", "concept"), ent("d", "concept")],
            [
              fact("a", "uses", "b"),
              fact("c", "calls", "b"),
              fact("c", "reads", "d"),
              fact("a", "mode", "x", { exclusive: true }),
            ],
          ),
        ),
      );
      await write(
        episode(
          "h",
          "later",
          origin("s", T0 + HOUR),
          extraction([], [fact("a", "mode", "y", { exclusive: true })]),
        ),
      );
      const a = (await store.entity({ name: "a" }))!.entity;
      const one = await store.neighbours([a.id], 1, 10);
      expect(one.map((n) => [n.entity.name, n.distance, n.via.relation])).toEqual([
        ["b", 1, "uses"],
        ["y", 1, "mode"],
      ]);
      const two = await store.neighbours([a.id], 2, 10);
      expect(two.map((n) => [n.entity.name, n.distance])).toEqual([
        ["b", 1],
        ["y", 1],
        ["c", 2],
      ]);
      expect(two[2]!.via).toMatchObject({ subject: "c", relation: "calls", object: "b" });
      expect((await store.neighbours([a.id], 3, 10)).map((n) => n.entity.name)).toEqual(["b", "y", "c", "d"]);
      expect(await store.neighbours([a.id], 3, 2)).toHaveLength(2);
    });

    it("searches each kind; entity by name with its facts and episodes; episodes by session and time", async () => {
      await write(
        episode(
          "s1-0",
          "We debugged the ECONNRESET in the uploader",
          origin("s1", T0),
          extraction(
            [
              ent("uploader", "file", "src/upload.ts: sends chunks"),
              ent("ECONNRESET", "error", "connection reset"),
            ],
            [fact("uploader", "raised", "ECONNRESET", { fact: "the uploader raised ECONNRESET under load" })],
            "fixed a connection reset in the uploader",
          ),
          { vector: [1, 0, 0] },
        ),
      );
      await write(
        episode(
          "s2-0",
          "Chose pino for logging",
          origin("s2", T0 + 2 * HOUR),
          extraction([ent("pino", "library", "fast JSON logger")], [], "picked a logger"),
          { vector: [0, 1, 0] },
        ),
      );
      // a document that is not an episode, nearer to the query vector, is not an episode hit
      await write([
        {
          kind: "upsert",
          job: "mem",
          collection: "code",
          key: "x.ts",
          version: "1",
          content: "x",
          vector: { model: "m", values: [0.1, 1, 0] },
        },
      ]);
      expect((await store.searchEpisodes("uploader", { limit: 5 })).map((e) => e.key)).toEqual(["s1-0"]);
      expect((await store.searchEpisodes("logger", { limit: 5 })).map((e) => e.key)).toEqual(["s2-0"]);
      expect(await store.searchEpisodes("uploader", { limit: 5, session: "s2" })).toEqual([]);
      expect((await store.semanticEpisodes([0, 1, 0.1], { limit: 1 })).map((e) => e.key)).toEqual(["s2-0"]);
      expect((await store.semanticEpisodes([1, 0, 0], { limit: 5 })).map((e) => e.key)).toEqual([
        "s1-0",
        "s2-0",
      ]);
      expect((await store.searchEntities("logger", { limit: 5 })).map((e) => e.name)).toEqual(["pino"]);
      expect((await store.searchEntities("uploader", { limit: 5, job: "other" })).map((e) => e.name)).toEqual(
        [],
      );
      expect((await store.searchFacts("load", { limit: 5 })).map((f) => f.fact)).toEqual([
        "the uploader raised ECONNRESET under load",
      ]);
      const got = await store.entity({ name: "econnreset", type: "ERROR", job: "mem" });
      expect(got!.entity).toMatchObject({ name: "ECONNRESET", type: "error", mentions: 1 });
      expect(got!.facts.map((f) => [f.subject, f.object, f.episode])).toEqual([
        ["uploader", "ECONNRESET", { collection: "episodes", key: "s1-0" }],
      ]);
      expect(got!.episodes.map((e) => e.key)).toEqual(["s1-0"]);
      expect(await store.entity({ id: got!.entity.id })).toEqual(got);
      expect(await store.entity({ name: "nothing" })).toBeUndefined();
      expect((await store.episodes({ limit: 10 })).map((e) => e.key)).toEqual(["s2-0", "s1-0"]);
      expect((await store.episodes({ limit: 10, session: "s1" })).map((e) => e.key)).toEqual(["s1-0"]);
      expect((await store.episodes({ limit: 10, since: T0 + HOUR })).map((e) => e.key)).toEqual(["s2-0"]);
      expect((await store.episodes({ limit: 10, until: T0 + HOUR })).map((e) => e.key)).toEqual(["s1-0"]);
      const [s1] = await store.episodes({ limit: 1, session: "s1" });
      expect(s1).toMatchObject({
        job: "mem",
        collection: "episodes",
        version: "1",
        firstTurn: 0,
        lastTurn: 3,
        endedAt: T0 + 60_000,
        metadata: { project: "/work/app", branch: "main" },
        extracted: true,
        promptTokens: 100,
        completionTokens: 20,
      });
      expect(await store.stats("mem")).toEqual({
        episodes: 2,
        extracted: 2,
        entities: 3,
        facts: 1,
        validFacts: 1,
        promptTokens: 200,
        completionTokens: 40,
      });
      expect((await store.stats("other")).episodes).toBe(0);
    });

    it("a knowledge write in a settlement commits with the item: completion and episode, or neither", async () => {
      const plan = await openPlan(ledger, ["e1", "e2", "e3"], { ref: phaseRef("mem", "sessions") });
      const claimed = await ledger.plans.claim(plan.id, "w", 60_000, 10);
      const by = (k: string) => claimed.find((c) => c.key === k)!;
      const done = (k: string, writes: DocumentWrite[], fence?: number) =>
        ledger.plans.settle([
          settlement(plan, { ...by(k), fence: fence ?? by(k).fence }, "COMPLETED", {
            fingerprint: "1",
            writes,
          }),
        ]);
      await done("e1", episode("e1", "first", origin("s", T0), extraction([ent("zod")])));
      // fenced out (another runner owns the item): neither
      await done(
        "e2",
        episode("e2", "second", origin("s", T0), extraction([ent("yup")])),
        by("e2").fence + 1,
      );
      // a write that fails (a debt without origin for an unregistered episode) rolls the item back too
      await expect(
        done("e3", [
          { kind: "upsert", job: "mem", collection: "episodes", key: "e3", version: "1", content: "third" },
          {
            kind: "knowledge",
            job: "mem",
            collection: "episodes",
            key: "e3",
            version: "1",
            extraction: null,
          },
        ]),
      ).rejects.toThrow("has no origin");
      const counts = await ledger.plans.count(plan.id);
      expect(counts).toMatchObject({ COMPLETED: 1, PROCESSING: 2 });
      expect((await store.episodes({ limit: 10 })).map((e) => e.key)).toEqual(["e1"]);
      expect(await ledger.documents!.get("mem", "episodes", "e3")).toBeUndefined();
      expect((await store.stats()).entities).toBe(1);
    });
  });
}

knowledgeSuite("sqlite", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "syncwarden-knowledge-"));
  const open: Ledger[] = [];
  let last = "";
  return {
    open: () => {
      last = path.join(dir, `state-${open.length}.db`);
      const l = openSqliteLedger(last);
      open.push(l);
      return Promise.resolve(l);
    },
    target: () => ({ kind: "sqlite", file: last }),
    cleanup: async () => {
      for (const l of open) await l.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

knowledgeSuite("postgres", () => {
  const open: Ledger[] = [];
  const schemas: string[] = [];
  let url = "";
  return {
    open: async () => {
      url = (await testPostgres()).url;
      const schema = freshSchema();
      schemas.push(schema);
      const l = openPostgresLedger({ url, schema, poolSize: 4 });
      open.push(l);
      return l;
    },
    target: () => ({ kind: "postgres", url, schema: schemas[schemas.length - 1]! }),
    cleanup: async () => {
      for (const l of open) await l.close();
      for (const s of schemas) await dropSchema(url, s);
    },
  };
});
