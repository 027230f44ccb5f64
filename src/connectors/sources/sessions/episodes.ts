/** Limits of an episode: at most `turns` turns; closed early when its text would pass `chars`. */
export interface EpisodeLimits {
  turns: number;
  chars: number;
}

/** Turn indices first..last (0-based, inclusive, within the turns given) that form one episode. */
export interface TurnRange {
  first: number;
  last: number;
}

/**
 * Cuts turns into episodes, from the first: an episode closes when it holds `limits.turns` turns, when the
 * next turn would take it past `limits.chars`, or before a turn already extracted from another file
 * (`repeated`, which belongs to no episode here). The last turn is still open unless `finished`; what it
 * and the turns of the unclosed episode before it wait for, `pending` (their first index) says: the next
 * read starts there. Finished, everything is emitted and `pending` is the number of turns.
 */
export function cutEpisodes(
  lengths: readonly number[],
  repeated: (i: number) => boolean,
  finished: boolean,
  limits: EpisodeLimits,
): { episodes: TurnRange[]; pending: number } {
  const episodes: TurnRange[] = [];
  const complete = finished ? lengths.length : lengths.length - 1;
  let first = -1;
  let chars = 0;
  let count = 0;
  const close = (last: number): void => {
    if (count > 0) episodes.push({ first, last });
    first = -1;
    chars = 0;
    count = 0;
  };
  let i = 0;
  for (; i < lengths.length; i++) {
    const open = i >= complete;
    if (!open && repeated(i)) {
      close(i - 1);
      continue;
    }
    const length = lengths[i]!;
    if (count > 0 && chars + length > limits.chars) close(i - 1);
    if (open) break;
    if (count === 0) first = i;
    count++;
    chars += length;
    if (count >= limits.turns) close(i);
  }
  if (finished) close(lengths.length - 1);
  return { episodes, pending: count > 0 ? first : i };
}
