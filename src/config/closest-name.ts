/** Edit distance (insertions, deletions, substitutions, adjacent swaps) between two names. */
function distance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known name nearest to a misspelt one, when it is near enough to be what was meant. */
export function closestName(wrong: string, known: Iterable<string>): string | undefined {
  const lower = wrong.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const name of known) {
    const d = distance(lower, name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  // a third of the name may be wrong (at least 2 edits), so "max_worker" finds max_workers and "foo" finds nothing
  return bestDistance <= Math.max(2, Math.floor(wrong.length / 3)) ? best : undefined;
}

/** `; did you mean max_workers?`, or "" when no known name is near. */
export function didYouMean(wrong: string, known: Iterable<string>): string {
  const near = closestName(wrong, known);
  return near === undefined ? "" : `; did you mean ${near}?`;
}
