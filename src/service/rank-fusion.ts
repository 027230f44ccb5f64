/** The constant of reciprocal-rank fusion (Cormack et al. 2009): damps the weight of the very first ranks. */
export const RRF_K = 60;

/**
 * Reciprocal-rank fusion: each list gives an item 1 / (k + rank) (rank from 1); an item's score is the sum
 * over the lists it appears in. Returns every item once, best first (ties keep first-seen order).
 */
export function fuseRanks<T>(
  lists: readonly (readonly T[])[],
  id: (item: T) => string,
  k = RRF_K,
): { item: T; score: number }[] {
  const fused = new Map<string, { item: T; score: number }>();
  for (const list of lists)
    list.forEach((item, i) => {
      const key = id(item);
      const entry = fused.get(key) ?? { item, score: 0 };
      entry.score += 1 / (k + i + 1);
      fused.set(key, entry);
    });
  return [...fused.values()].sort((a, b) => b.score - a.score);
}
