/**
 * The fake LLM's "understanding": entities, facts and a summary found in an episode's text by plain
 * rules, so one prompt always gets one answer and a test knows what to expect from its fixture.
 */

export interface FakeEntity {
  name: string;
  type: string;
  description: string;
}

export interface FakeFact {
  subject: string;
  relation: string;
  object: string;
  fact: string;
  valid_at: string | null;
  exclusive: boolean;
}

export interface FakeExtraction {
  summary: string;
  entities: FakeEntity[];
  facts: FakeFact[];
}

/** Library names the fake recognises as whole words (case-insensitive). */
export const KNOWN_LIBRARIES = [
  "react",
  "express",
  "zod",
  "vitest",
  "jest",
  "lodash",
  "prisma",
  "postgres",
  "sqlite",
  "better-sqlite3",
  "openai",
  "axios",
  "typescript",
  "webpack",
  "redis",
  "docker",
  "fastify",
  "pino",
  "commander",
  "undici",
];

const FILE =
  /(?<![\w/.-])((?:[\w.-]+\/)*[\w-]+\.(?:ts|tsx|js|mjs|cjs|py|rs|go|json|md|yaml|yml|sql|css|html))(?![\w/])/g;
const ERROR = /\b(E[A-Z]{3,}|TS\d{4}|[A-Z]{2,}_[A-Z_]*[A-Z])\b/g;
const FUNCTION = /\b([A-Za-z_$][\w$]*)\(\)/g;
const PERSON = /(?<![\w.])@([A-Za-z][\w-]*)/g;
const DECISION = /^\s*Decision:\s*(.+?)\s*$/;
const STATUS = /^\s*(?:[-*]\s*)?(.+?) is now (.+?)\s*\.?\s*$/;
const LIBRARY = new RegExp(
  `(?<![\\w-])(${KNOWN_LIBRARIES.map((l) => l.replace(/[.-]/g, "\\$&")).join("|")})(?![\\w-])`,
  "gi",
);

const matches = (re: RegExp, line: string): string[] => [...line.matchAll(re)].map((m) => m[1]!);

/** What the fake extracts from one user message. */
export function fakeExtract(text: string): FakeExtraction {
  const entities = new Map<string, FakeEntity>();
  const facts: FakeFact[] = [];
  const seenFacts = new Set<string>();
  const add = (name: string, type: string, description: string): string => {
    const key = `${type}:${name.toLowerCase()}`;
    if (!entities.has(key)) entities.set(key, { name, type, description });
    return name;
  };
  const fact = (subject: string, relation: string, object: string, exclusive = false): void => {
    const key = `${subject}|${relation}|${object}`;
    if (seenFacts.has(key)) return;
    seenFacts.add(key);
    const sentence = `${subject} ${relation.replace(/_/g, " ")} ${object}`;
    facts.push({ subject, relation, object, fact: sentence, valid_at: null, exclusive });
  };
  const lines = text.split("\n");
  for (const line of lines) {
    const files = matches(FILE, line).map((f) => add(f, "file", `the file ${f}`));
    const libraries = matches(LIBRARY, line).map((l) =>
      add(l.toLowerCase(), "library", `the ${l.toLowerCase()} library`),
    );
    const errors = matches(ERROR, line).map((e) => add(e, "error", `error ${e}`));
    const functions = matches(FUNCTION, line).map((f) => add(f, "function", `the function ${f}()`));
    const people = matches(PERSON, line).map((p) => add(p, "person", `@${p}`));
    const decision = DECISION.exec(line)?.[1];
    if (decision !== undefined) add(decision, "decision", `decided: ${decision}`);
    for (const f of files) {
      for (const l of libraries) fact(f, "uses", l);
      for (const e of errors) fact(e, "raised_in", f);
      for (const fn of functions) fact(fn, "defined_in", f);
    }
    if (decision !== undefined) for (const p of people) fact(p, "decided", decision);
    const status = decision === undefined ? STATUS.exec(line) : null;
    if (status) {
      const subject = status[1]!.replace(/^(the|The)\s+/, "");
      const known = [...entities.values()].find((e) => e.name.toLowerCase() === subject.toLowerCase());
      if (!known) add(subject, "concept", subject);
      add(status[2]!, "concept", status[2]!);
      fact(known?.name ?? subject, "status", status[2]!, true);
    }
  }
  const first = lines.map((l) => l.trim()).find((l) => l !== "") ?? "";
  return { summary: first.slice(0, 200), entities: [...entities.values()], facts };
}
