import { createRequire } from "node:module";

/** One sample as parse-prometheus-text-format gives it (counters and gauges: `value`; histograms: `buckets`, `count`, `sum`). */
export interface Sample {
  labels?: Record<string, string>;
  value?: string;
  count?: string;
  sum?: string;
  buckets?: Record<string, string>;
}
export interface Family {
  name: string;
  help: string;
  type: "COUNTER" | "GAUGE" | "HISTOGRAM" | "SUMMARY" | "UNTYPED";
  metrics: Sample[];
}

const parse = createRequire(import.meta.url)("parse-prometheus-text-format") as (text: string) => Family[];

/** Parses a text exposition (throws on a malformed one) into families by name. */
export function parseExposition(text: string): Map<string, Family> {
  return new Map(parse(text).map((f) => [f.name, f]));
}

/** The sum of a family's samples whose labels include `match` (0 when none). */
export function total(
  families: Map<string, Family>,
  name: string,
  match: Record<string, string> = {},
): number {
  const f = families.get(name);
  if (!f) return 0;
  return f.metrics
    .filter((m) => Object.entries(match).every(([k, v]) => m.labels?.[k] === v))
    .reduce((sum, m) => sum + Number(m.value ?? m.count ?? 0), 0);
}
