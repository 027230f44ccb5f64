/**
 * Deterministic fixture data and a bag-of-words embedding for the fault-injecting test server.
 * Nothing here touches the network; see fault-server.ts for the HTTP side.
 */

export interface Product {
  id: number;
  name: string;
  description: string;
  updated_at: string;
  version: number;
}

export interface Feature {
  id: number;
  product_id: number;
  title: string;
  body: string;
  updated_at: string;
}

export interface TestCase {
  id: number;
  feature_id: number;
  title: string;
  steps: string;
  updated_at: string;
}

export interface FaultData {
  products: Product[];
  features: Feature[];
  tests: TestCase[];
}

/** All generated timestamps are this instant plus `id` minutes. */
export const BASE_TIME_MS = Date.UTC(2026, 0, 1, 0, 0, 0);

const VOCABULARY = [
  "checkout",
  "payment",
  "invoice",
  "refund",
  "login",
  "password",
  "session",
  "token",
  "search",
  "filter",
  "catalog",
  "inventory",
  "shipping",
  "delivery",
  "tracking",
  "warehouse",
  "report",
  "dashboard",
  "chart",
  "export",
  "upload",
  "download",
  "image",
  "thumbnail",
  "email",
  "notification",
  "reminder",
  "calendar",
  "profile",
  "avatar",
  "settings",
  "privacy",
  "latency",
  "throughput",
  "cache",
  "queue",
  "retry",
  "timeout",
  "backup",
  "restore",
  "audit",
  "permission",
  "role",
  "team",
  "billing",
  "subscription",
  "coupon",
  "discount",
  "mobile",
  "tablet",
  "desktop",
  "browser",
  "offline",
  "sync",
  "conflict",
  "merge",
  "translation",
  "locale",
  "currency",
  "tax",
  "accessibility",
  "keyboard",
  "contrast",
  "onboarding",
] as const;

const SHAPES = [
  "fast",
  "secure",
  "reliable",
  "simple",
  "accurate",
  "scalable",
  "friendly",
  "robust",
] as const;

/** Picks `count` (< vocabulary size) distinct vocabulary words for entity `seed`, deterministically. */
function words(seed: number, count: number): string[] {
  const out: string[] = [];
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < count; i++) {
    x = (Math.imul(x ^ (x >>> 15), 2246822519) + 0x9e3779b9) >>> 0;
    let idx = x % VOCABULARY.length;
    // Linear probe past words already used; bounded because count < VOCABULARY.length.
    for (let probe = 0; probe < VOCABULARY.length && out.includes(VOCABULARY[idx]!); probe++) {
      idx = (idx + 1) % VOCABULARY.length;
    }
    out.push(VOCABULARY[idx]!);
  }
  return out;
}

function at(minutes: number): string {
  return new Date(BASE_TIME_MS + minutes * 60_000).toISOString();
}

export interface DataShape {
  products: number;
  featuresPerProduct: number;
  testsPerFeature: number;
}

export function buildData(shape: DataShape): FaultData {
  const products: Product[] = [];
  const features: Feature[] = [];
  const tests: TestCase[] = [];
  for (let p = 1; p <= shape.products; p++) {
    const w = words(p, 5);
    products.push({
      id: p,
      name: `Product ${p}`,
      description: `A ${SHAPES[p % SHAPES.length]!} product for ${w.join(" ")}.`,
      updated_at: at(p),
      version: 1,
    });
    for (let f = 0; f < shape.featuresPerProduct; f++) {
      const fid = features.length + 1;
      const fw = words(100_003 + fid, 6);
      features.push({
        id: fid,
        product_id: p,
        title: `Feature ${fid}: ${fw[0]!} ${fw[1]!}`,
        body: `Users can manage ${fw.slice(0, 3).join(", ")} with ${fw.slice(3).join(" and ")} in Product ${p}.`,
        updated_at: at(fid),
      });
      for (let t = 0; t < shape.testsPerFeature; t++) {
        const tid = tests.length + 1;
        const tw = words(200_003 + tid, 4);
        tests.push({
          id: tid,
          feature_id: fid,
          title: `Test ${tid}: ${tw[0]!} ${tw[1]!} is ${SHAPES[tid % SHAPES.length]!}`,
          steps: `1. Open ${fw[0]!}. 2. Trigger ${tw[0]!} and ${tw[1]!}. 3. Verify ${tw[2]!} ${tw[3]!}.`,
          updated_at: at(tid),
        });
      }
    }
  }
  return { products, features, tests };
}

/** Lower-cased words (letters/digits runs) of a text. */
export function tokenize(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Bag-of-words embedding: each word hashed (FNV-1a) into one of `dim` buckets, counted, L2-normalised. */
export function embed(text: string, dim: number): { vector: number[]; tokens: number } {
  const vector = new Array<number>(dim).fill(0);
  const toks = tokenize(text);
  for (const t of toks) vector[fnv1a(t) % dim]! += 1;
  const norm = Math.sqrt(vector.reduce((s, v) => s + v * v, 0));
  if (norm > 0) for (let i = 0; i < dim; i++) vector[i] = vector[i]! / norm;
  return { vector, tokens: toks.length };
}

/** mulberry32: tiny seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
