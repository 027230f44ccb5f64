import { describe, expect, it } from "vitest";
import type { DocumentStore } from "../../src/ledger/document-store.js";
import type { DocumentUpsert } from "../../src/ledger/types.js";
import { openPlan, settlement, sleep } from "./fixtures.js";
import type { ContractOptions, Harness } from "./harness.js";

const doc = (key: string, content: string, extra: Partial<DocumentUpsert> = {}): DocumentUpsert => ({
  kind: "upsert",
  job: "j",
  collection: "code",
  key,
  version: "1",
  content,
  ...extra,
});

export function documentsContract(h: Harness, options: ContractOptions): void {
  describe("documents", () => {
    if (!options.documents) {
      it("this implementation has no embedded document store", () => {
        expect(h().ledger.documents).toBeUndefined();
      });
      return;
    }

    const docs = (): DocumentStore => {
      const store = h().ledger.documents;
      if (!store)
        throw new Error("the implementation says it has a document store; ledger.documents is undefined");
      return store;
    };

    it("the embedded document store is there", () => {
      expect(h().ledger.documents).toBeDefined();
    });

    it("write then get and count; a new version replaces the content; a delete removes it", async () => {
      await docs().write([
        doc("a.ts", "export const a = 1;"),
        doc("b.ts", "export const b = 2;"),
        doc("notes", "plain words", { collection: "notes", job: "k" }),
      ]);
      expect(await docs().get("j", "code", "a.ts")).toEqual({ version: "1", content: "export const a = 1;" });
      expect(await docs().get("j", "code", "missing")).toBeUndefined();
      expect(await docs().count({})).toBe(3);
      expect(await docs().count({ job: "j" })).toBe(2);
      expect(await docs().count({ collection: "notes" })).toBe(1);

      await docs().write([doc("a.ts", "export const a = 10;", { version: "2" })]);
      expect(await docs().get("j", "code", "a.ts")).toEqual({
        version: "2",
        content: "export const a = 10;",
      });
      await docs().write([{ kind: "delete", job: "j", collection: "code", key: "b.ts" }]);
      expect(await docs().get("j", "code", "b.ts")).toBeUndefined();
      expect(await docs().count({ job: "j" })).toBe(1);
    });

    it("a long document is kept whole", async () => {
      const content = Array.from({ length: 800 }, (_, i) => `line ${i} of a long file`).join("\n");
      await docs().write([doc("long", content)]);
      expect((await docs().get("j", "code", "long"))?.content).toBe(content);
    });

    it("search: every word must match, one hit per document, with a snippet; job and limit filter", async () => {
      await docs().write([
        doc("both", "the circuit breaker opens after five failures"),
        doc("one", "a breaker of another kind"),
        doc("other-job", "circuit breaker in another job", { job: "k" }),
      ]);
      const hits = await docs().search("circuit breaker", { limit: 10 });
      expect(hits.map((x) => x.key).sort()).toEqual(["both", "other-job"]);
      const [hit] = await docs().search("circuit breaker", { job: "j", limit: 10 });
      expect(hit).toMatchObject({ job: "j", collection: "code", key: "both", version: "1" });
      expect(hit!.snippet).toMatch(/circuit/i);
      expect(typeof hit!.score).toBe("number");
      expect((await docs().search("breaker", { limit: 10 })).length).toBe(3);
      expect((await docs().search("breaker", { limit: 2 })).length).toBe(2);
      expect(await docs().search("breaker nowhere", { limit: 10 })).toEqual([]);
      // a person's punctuation is not query syntax
      expect(await docs().search('breaker" (*', { limit: 10 })).toHaveLength(3);
      expect(await docs().search("", { limit: 10 })).toEqual([]);
    });

    it("a replaced or deleted document is no longer found by its old words", async () => {
      await docs().write([doc("a", "alpha words")]);
      await docs().write([doc("a", "beta words", { version: "2" })]);
      expect(await docs().search("alpha", { limit: 10 })).toEqual([]);
      expect((await docs().search("beta", { limit: 10 })).map((x) => x.key)).toEqual(["a"]);
      await docs().write([{ kind: "delete", job: "j", collection: "code", key: "a" }]);
      expect(await docs().search("beta", { limit: 10 })).toEqual([]);
    });

    it("vectors: counted per job and ranked by cosine similarity", async () => {
      const vec = (values: number[]) => ({ model: "m", values });
      await docs().write([
        doc("x", "x", { vector: vec([1, 0, 0]) }),
        doc("xy", "xy", { vector: vec([1, 1, 0]) }),
        doc("z", "z", { vector: vec([0, 0, 1]) }),
        doc("k", "k", { job: "k", vector: vec([2, 0, 0]) }),
        doc("none", "no vector"),
      ]);
      expect(await docs().countVectors(undefined)).toBe(4);
      expect(await docs().countVectors("j")).toBe(3);
      const ranked = await docs().semanticSearch([1, 0.1, 0], { job: "j", limit: 10 });
      expect(ranked.map((x) => x.key)).toEqual(["x", "xy", "z"]);
      expect(ranked[0]!.score).toBeGreaterThan(0.99);
      expect(ranked[2]!.score).toBeCloseTo(0, 5);
      expect((await docs().semanticSearch([1, 0, 0], { limit: 2 })).map((x) => x.score)).toEqual([
        expect.closeTo(1, 5),
        expect.closeTo(1, 5),
      ]);
    });

    it("a vector paid for an old version is not attached to newer content", async () => {
      await docs().write([doc("a", "first", { version: "1" })]);
      await docs().write([doc("a", "second", { version: "2" })]);
      const vector = { model: "m", values: [1, 0] };
      await docs().write([{ kind: "vector", job: "j", collection: "code", key: "a", version: "1", vector }]);
      expect(await docs().countVectors("j")).toBe(0);
      await docs().write([{ kind: "vector", job: "j", collection: "code", key: "a", version: "2", vector }]);
      expect(await docs().countVectors("j")).toBe(1);
    });

    it("a settlement's document writes commit with the item; a stale-fence settlement writes none", async () => {
      const { ledger } = h();
      const plan = await openPlan(ledger, ["a", "b"]);
      const [a, b] = await ledger.plans.claim(plan.id, "old", 50, 2);
      await ledger.plans.settle([
        settlement(plan, a!, "COMPLETED", { fingerprint: "1", writes: [doc("a", "alpha content")] }),
      ]);
      expect(await docs().get("j", "code", "a")).toEqual({ version: "1", content: "alpha content" });

      await sleep(120);
      await ledger.plans.requeueExpired(plan.id);
      const [bAgain] = await (await h().second()).plans.claim(plan.id, "new", 60_000, 1);
      expect(bAgain!.key).toBe("b");
      await ledger.plans.settle([
        settlement(plan, b!, "COMPLETED", { fingerprint: "1", writes: [doc("b", "stale content")] }),
      ]);
      expect(await docs().get("j", "code", "b")).toBeUndefined();
      expect(await docs().search("stale", { limit: 10 })).toEqual([]);
      // a failure carries no writes either
      await ledger.plans.settle([
        settlement(plan, bAgain!, "FAILED", { attempts: 1, writes: [doc("b", "failed content")] }),
      ]);
      expect(await docs().get("j", "code", "b")).toBeUndefined();
    });
  });
}
